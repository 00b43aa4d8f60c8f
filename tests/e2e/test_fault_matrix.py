"""The fault matrix: with each demo-shop fault, exactly the journeys that should fail do,
at the right step, with the right failure kind, in both themes (faults the themes' shared
code serves: in one); and each payment mode and the overlays, with and without the faults
that break them. docs/journeys.md has the same table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from checkout_monitor.demo_shop import FAULTS
from support.cli_support import run_cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Per theme, the names of the steps that differ between the two markups.
STEPS = {
    "classic": {
        "first product images": "images on product page 1",
        "pay": "pay",
        "first checkout submit": "fill address",
        "card fields": "pay",
    },
    "boutique": {
        "first product images": "images on product page 1",
        "pay": "place order",
        "first checkout submit": "fill details",
        "card fields": "enter card",
    },
}
JOURNEYS = {"product-to-checkout", "product-images", "discount-codes", "payment-sandbox"}
STEP_TIMEOUT = "8s"  # hung pages fail sooner than the demo's 10s; a whole checkout still fits
# a page held back 20s fails at any timeout: the shorter one only saves the suite's time
HUNG_PAGE_TIMEOUT = {"slow-product-page": "4s", "endless-page": "4s"}

# Only the journeys that pay: what a payment mode changes, at half the suite time.
PAYING = "only=product-to-checkout+payment-sandbox"
CHALLENGE_PASSED = "3-D Secure challenge passed: charged"  # monitors/payment_sandbox.py

# case -> {journey: (step, failure kind)}; every journey not named must pass. A case is the
# fault ("" for none), then any "payment=MODE", "overlays=NAME+NAME", and "only=J+J" (run
# just these journeys).
MATRIX: dict[str, dict[str, tuple[str, str]]] = {
    "": {},
    "broken-image": {"product-images": ("first product images", "image_broken")},
    "corrupt-image": {"product-images": ("first product images", "image_broken")},
    "placeholder-image": {"product-images": ("first product images", "image_broken")},
    "slow-product-page": {
        "product-to-checkout": ("open product page", "timeout"),
        "product-images": ("first product images", "timeout"),
        "discount-codes": ("apply SAVE10", "timeout"),
        "payment-sandbox": ("decline card is declined", "timeout"),
    },
    "add-to-cart-broken": {
        "product-to-checkout": ("add to cart", "cart_add_failed"),
        "discount-codes": ("apply SAVE10", "cart_add_failed"),
        "payment-sandbox": ("decline card is declined", "cart_add_failed"),
    },
    "discount-engine-down": {"discount-codes": ("apply SAVE10", "http_error")},
    "payment-declines": {
        "product-to-checkout": ("pay", "payment_declined"),
        "payment-sandbox": ("approve card is charged", "payment_declined"),
    },
    "payment-provider-down": {
        "product-to-checkout": ("pay", "payment_provider_down"),
        "payment-sandbox": ("payment provider health", "payment_provider_down"),
    },
    "checkout-token-rejected": {
        "product-to-checkout": ("first checkout submit", "checkout_token_invalid"),
        "payment-sandbox": ("decline card is declined", "checkout_token_invalid"),
    },
    "out-of-stock": {
        "product-to-checkout": ("add to cart", "out_of_stock"),
        "discount-codes": ("apply SAVE10", "out_of_stock"),
        "payment-sandbox": ("decline card is declined", "out_of_stock"),
    },
    # the script and stylesheet it pulls in are blocked too, but only reported
    "foreign-host": {
        "product-to-checkout": ("go to checkout", "host_not_allowed"),
        "payment-sandbox": ("decline card is declined", "host_not_allowed"),
    },
    # hostile pages: each bounded by a limit, the other journeys unharmed
    "huge-image": {"product-images": ("first product images", "image_broken")},
    "decompression-bomb": {"product-images": ("images on product page 2", "image_broken")},
    "redirect-loop": {
        "product-to-checkout": ("open product page", "http_error"),
        "product-images": ("first product images", "http_error"),
        "discount-codes": ("apply SAVE10", "http_error"),
        "payment-sandbox": ("decline card is declined", "http_error"),
    },
    "endless-page": {
        "product-to-checkout": ("open product page", "timeout"),
        "product-images": ("first product images", "timeout"),
        "discount-codes": ("apply SAVE10", "timeout"),
        "payment-sandbox": ("decline card is declined", "timeout"),
    },
    # the ways small shops take cards, and what themes lay over their pages
    f"payment=hosted-fields {PAYING}": {},
    f"payment=redirect {PAYING}": {},
    "overlays=cookie-banner+newsletter": {},
    f"hosted-fields-script-down payment=hosted-fields {PAYING}": {
        "product-to-checkout": ("card fields", "payment_fields_unavailable"),
        "payment-sandbox": ("decline card is declined", "payment_fields_unavailable"),
    },
    f"three-ds-stuck {PAYING}": {
        "payment-sandbox": (CHALLENGE_PASSED, "three_d_secure_failed"),
    },
    f"payment-no-return payment=redirect {PAYING}": {
        "product-to-checkout": ("pay on Demo Pay", "payment_redirect_failed"),
        "payment-sandbox": ("approve card is charged", "payment_redirect_failed"),
    },
    "overlay-stuck": {
        "product-to-checkout": ("add to cart", "overlay_blocking"),
        "discount-codes": ("apply SAVE10", "overlay_blocking"),
        "payment-sandbox": ("decline card is declined", "overlay_blocking"),
    },
}


@dataclass(frozen=True)
class Case:
    """One row of the matrix as run-smoke arguments."""

    fault: str
    args: tuple[str, ...]
    journeys: frozenset[str]


def case_of(key: str) -> Case:
    """Read a MATRIX key: "FAULT payment=MODE overlays=A+B only=J+J", each part optional."""
    fault, args, journeys = "", [], frozenset(JOURNEYS)
    for word in key.split():
        name, _, value = word.partition("=")
        if not value:
            fault = name
            args += ["--fault", name]
        elif name == "payment":
            args += ["--payment", value]
        elif name == "overlays":
            args += [arg for overlay in value.split("+") for arg in ("--overlay", overlay)]
        elif name == "only":
            journeys = frozenset(value.split("+"))
            args += [arg for journey in sorted(journeys) for arg in ("--journey", journey)]
        else:
            raise ValueError(f"matrix case {key!r}: unknown part {word!r}")
    return Case(fault, tuple(args), journeys)


# Found the same way whatever the markup (a page held back, an HTTP error, the shop code
# both themes share): one theme is enough, and saves the suite a minute and a half.
# tests/e2e/test_hostile_pages.py covers the hostile pages' limits.
ONE_THEME = {
    "slow-product-page", "discount-engine-down", "foreign-host", "huge-image",
    "decompression-bomb", "redirect-loop", "endless-page",
}  # fmt: skip


def case_id(key: str) -> str:
    """A test id that -k can select: "hosted-fields-script-down-payment:hosted-fields"."""
    parts = [word.replace("=", ":") for word in key.split() if not word.startswith("only=")]
    return "-".join(parts) or "no-fault"


CASES = [
    pytest.param(theme, key, id=f"{case_id(key)}-{theme}")
    for key in MATRIX
    for theme in sorted(STEPS)
    if case_of(key).fault not in ONE_THEME or theme == "classic"
]


def test_matrix_covers_every_fault() -> None:
    faults = {case_of(key).fault for key in MATRIX} - {""}
    assert sorted(faults) == sorted(FAULTS)


@pytest.mark.parametrize(("theme", "key"), CASES)
def test_fault(tmp_path: Path, theme: str, key: str) -> None:
    case = case_of(key)
    report = tmp_path / "report.json"
    timeout = HUNG_PAGE_TIMEOUT.get(case.fault, STEP_TIMEOUT)
    args = ["--demo", "--theme", theme, "--step-timeout", timeout, "--json", str(report)]
    args += ["--retries", "0"]  # the retry would fail the same way, at twice the time
    result = run_cli("run-smoke", *args, *case.args)
    expected = {
        journey: (STEPS[theme].get(step, step), kind)
        for journey, (step, kind) in MATRIX[key].items()
    }
    assert result.returncode == (1 if expected else 0), result.stdout + result.stderr
    payment = dict(zip(case.args[::2], case.args[1::2], strict=True)).get("--payment", "form")
    assert f"| payment: {payment} |" in result.stdout  # the header names the mode
    assert "Traceback" not in result.stdout + result.stderr

    journeys = json.loads(report.read_text())["journeys"]
    assert {j["name"] for j in journeys} == case.journeys
    failed = {j["name"]: (j["failed_step"], j["failure_kind"]) for j in journeys if not j["ok"]}
    assert failed == expected, result.stdout
    for journey in journeys:
        if not journey["ok"]:
            assert journey["failure_class"] == "site"
    if not key:  # without --journey, every journey of the demo runs
        assert "ALL PASSED: 4 of 4 journeys passed" in result.stdout
        assert "PASS  images on product page 6" in result.stdout
