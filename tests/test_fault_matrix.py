"""The fault matrix: with each demo-shop fault, exactly the journeys that should fail do,
at the right step, with the right failure kind, in both themes (faults the themes' shared
code serves: in one). README.md has the same table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checkout_monitor.demo_shop import FAULTS
from cli_support import run_cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Per theme, the names of the steps that differ between the two markups.
STEPS = {
    "classic": {
        "first product images": "images on product page 1",
        "pay": "pay",
        "first checkout submit": "fill address",
    },
    "boutique": {
        "first product images": "images on product page 1",
        "pay": "place order",
        "first checkout submit": "fill details",
    },
}
JOURNEYS = {"product-to-checkout", "product-images", "discount-codes", "payment-sandbox"}
STEP_TIMEOUT = "8s"  # hung pages fail sooner than the demo's 10s; a whole checkout still fits
# a page held back 20s fails at any timeout: the shorter one only saves the suite's time
HUNG_PAGE_TIMEOUT = {"slow-product-page": "4s", "endless-page": "4s"}

# fault -> {journey: (step, failure kind)}; every journey not named must pass.
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
}


# Found the same way whatever the markup (a page held back, an HTTP error, the shop code
# both themes share): one theme is enough, and saves the suite a minute and a half.
# tests/test_hostile_pages.py covers the hostile pages' limits.
ONE_THEME = {
    "slow-product-page", "discount-engine-down", "foreign-host", "huge-image",
    "decompression-bomb", "redirect-loop", "endless-page",
}  # fmt: skip
CASES = [
    pytest.param(theme, fault, id=f"{fault or 'no-fault'}-{theme}")
    for fault in MATRIX
    for theme in sorted(STEPS)
    if fault not in ONE_THEME or theme == "classic"
]


def test_matrix_covers_every_fault() -> None:
    assert sorted(name for name in MATRIX if name) == sorted(FAULTS)


@pytest.mark.parametrize(("theme", "fault"), CASES)
def test_fault(tmp_path: Path, theme: str, fault: str) -> None:
    report = tmp_path / "report.json"
    timeout = HUNG_PAGE_TIMEOUT.get(fault, STEP_TIMEOUT)
    args = ["--demo", "--theme", theme, "--step-timeout", timeout, "--json", str(report)]
    args += ["--retries", "0"]  # the retry would fail the same way, at twice the time
    if fault:
        args += ["--fault", fault]
    result = run_cli("run-smoke", *args)
    expected = {
        journey: (STEPS[theme].get(step, step), kind)
        for journey, (step, kind) in MATRIX[fault].items()
    }
    assert result.returncode == (1 if expected else 0), result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr

    journeys = json.loads(report.read_text())["journeys"]
    assert {j["name"] for j in journeys} == JOURNEYS
    failed = {j["name"]: (j["failed_step"], j["failure_kind"]) for j in journeys if not j["ok"]}
    assert failed == expected, result.stdout
    for journey in journeys:
        if not journey["ok"]:
            assert journey["failure_class"] == "site"
    if not fault:  # without --journey, every journey of the demo runs
        assert "ALL PASSED: 4 of 4 journeys passed" in result.stdout
        assert "PASS  images on product page 6" in result.stdout
