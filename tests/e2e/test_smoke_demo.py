"""`run-smoke --demo`, run as a user runs it: real Chromium against the embedded demo shop."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from support.cli_support import run_cli

pytestmark = pytest.mark.browser

HAPPY_STEPS = [
    "open product page",
    "add to cart",
    "open cart",
    "go to checkout",
    "fill address",
    "choose shipping",
    "pay",
    "see confirmation",
    "cancel test order",
    "refuse stale checkout token",
]


def _report(path: Path) -> dict[str, object]:
    document: dict[str, object] = json.loads(path.read_text())
    return document


def test_demo_passes_every_step_with_timings(tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.json"
    result = run_cli(
        "run-smoke", "--demo", "--journey", "product-to-checkout", "--json", str(report)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for step in HAPPY_STEPS:
        assert any(
            line.strip().startswith(f"PASS  {step}") and line.rstrip().split(" ms")[0][-1].isdigit()
            for line in result.stdout.splitlines()
        ), f"no PASS line with milliseconds for {step!r}:\n{result.stdout}"
    assert "ALL PASSED: 1 of 1 journeys passed. Total wall time" in result.stdout
    assert result.stderr == ""

    document = _report(report)
    assert document["ok"] is True
    (journey,) = document["journeys"]  # type: ignore[misc]
    assert journey["name"] == "product-to-checkout"
    assert journey["ok"] is True
    assert journey["duration_seconds"] > 0
    assert [s["name"] for s in journey["steps"]] == HAPPY_STEPS
    for step in journey["steps"]:
        assert set(step) >= {"name", "ok", "duration_seconds", "failure_kind", "message"}
        assert step["ok"] is True
        assert step["failure_kind"] is None
    assert journey["steps"][7]["message"].startswith("order CM-")


def faulted_demo(*args: str) -> subprocess.CompletedProcess[str]:
    """`run-smoke --demo` without retries: a fault fails the same way twice, in twice the time."""
    return run_cli("run-smoke", "--demo", "--retries", "0", *args)


FAULTS = [
    ("payment-declines", "pay", "payment_declined", "Your card was declined"),
    ("payment-provider-down", "pay", "payment_provider_down", "payment provider"),
    ("out-of-stock", "add to cart", "out_of_stock", "Sold out"),
    ("checkout-token-rejected", "fill address", "checkout_token_invalid", "session expired"),
]


@pytest.mark.parametrize(("fault", "step", "kind", "shown"), FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_fails_at_the_right_step(
    tmp_path: Path, fault: str, step: str, kind: str, shown: str
) -> None:
    report = tmp_path / "report.json"
    result = faulted_demo(
        "--journey", "product-to-checkout", "--fault", fault, "--json", str(report)
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert f"FAIL  {step}" in result.stdout
    assert f"{kind}: " in result.stdout
    assert f"FAILED at step {step!r} ({kind})" in result.stdout
    assert "What to do:" in result.stdout
    assert "Owner: Demo shop team" in result.stdout

    (journey,) = _report(report)["journeys"]  # type: ignore[misc]
    assert journey["ok"] is False
    failed = [s for s in journey["steps"] if not s["ok"]]
    assert [(s["name"], s["failure_kind"]) for s in failed] == [(step, kind)]
    assert shown.lower() in failed[0]["message"].lower()
    assert journey["failure_class"] == "site"
    # nothing after the failing step ran
    assert journey["steps"][-1]["name"] == step


def test_broken_image_names_url_page_and_reason() -> None:
    result = faulted_demo("--journey", "product-images", "--fault", "broken-image")
    assert result.returncode == 1
    assert (
        "image_broken: 1 of 3 images broken on /products/speckled-mug: http://127.0.0.1:"
        in result.stdout
    )
    assert "/images/speckled-mug/2-480.webp: HTTP 404" in result.stdout


def test_boutique_theme_multi_page_checkout_behind_a_click() -> None:
    result = run_cli(
        "run-smoke", "--demo", "--theme", "boutique", "--journey", "product-to-checkout"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for step in ("fill details", "choose delivery", "enter card", "place order"):
        assert f"PASS  {step}" in result.stdout
    assert "PASS  cancel test order" in result.stdout


def test_add_to_cart_broken_names_the_script_error() -> None:
    result = faulted_demo(
        "--journey", "product-to-checkout", "--fault", "add-to-cart-broken", "--step-timeout", "3s"
    )
    assert result.returncode == 1
    assert (
        "cart_add_failed: clicked add to cart, but the shop never confirmed it; the page threw"
        in result.stdout
    )


def test_boutique_theme_names_its_own_wording_for_a_decline() -> None:
    result = faulted_demo(
        "--theme",
        "boutique",
        "--journey",
        "product-to-checkout",
        "--fault",
        "checkout-token-rejected",
    )
    assert result.returncode == 1
    assert "FAILED at step 'fill details' (checkout_token_invalid)" in result.stdout
    assert "session has expired" in result.stdout
