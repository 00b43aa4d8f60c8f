"""Storefront profiles written from the docs alone pass against the demo shop.

Each profile in tests/fixtures/readme-profiles/ is a full profile (no `extends:`) that a
shop owner wrote from the docs (then one README; now docs/journeys.md and
docs/configuration.md) and config.example.yaml, finding the selectors by opening
the boutique theme's pages in a browser: one for card fields in the payment provider's
cross-origin iframes (with the cookie banner and the newsletter pop-up on), one for a
redirect to the provider's hosted payment page and back. Each runs `product-to-checkout`
and `payment-sandbox` (3-D Secure both ways included) in one run-smoke.

The hosted-fields profile has a failure signal inside the provider's frame together with
declared overlays: that pair once made every journey fail at its first page (waits for
the page and for the frame side by side ran the overlay handlers side by side).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from checkout_monitor.demo_shop import DemoShop
from support.cli_support import REPO, run_cli

pytestmark = pytest.mark.browser

PROFILES = REPO / "tests" / "fixtures" / "readme-profiles"


@pytest.mark.timeout(420)
@pytest.mark.parametrize(
    ("profile", "payment", "overlays"),
    [
        ("boutique-hosted-fields.yaml", "hosted-fields", ("cookie-banner", "newsletter")),
        ("boutique-redirect.yaml", "redirect", ()),
    ],
)
def test_a_profile_written_from_the_readme_passes(
    start_shop: Callable[..., DemoShop],
    tmp_path: Path,
    profile: str,
    payment: str,
    overlays: tuple[str, ...],
) -> None:
    shop = start_shop(theme="boutique", payment=payment, overlays=overlays)
    report = tmp_path / "report.json"
    result = run_cli(
        "run-smoke",
        "--config",
        str(PROFILES / profile),
        "--journey",
        "product-to-checkout",
        "--journey",
        "payment-sandbox",
        "--json",
        str(report),
        env={
            "SHOP_BASE_URL": shop.shop_url,
            "PAYMENT_SANDBOX_URL": shop.sandbox_url,
            "PAYMENT_SANDBOX_PORT": str(urlsplit(shop.sandbox_public_url).port),
            "SHOP_ADMIN_TOKEN": shop.admin_token,
        },
        timeout=400,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output

    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["ok"] is True, output
    assert document["status"] == "passed", output
    journeys = {journey["name"]: journey for journey in document["journeys"]}
    assert sorted(journeys) == ["payment-sandbox", "product-to-checkout"], output
    for name, journey in journeys.items():
        assert journey["status"] == "passed", (name, output)
        assert journey["flaky"] is False, (name, output)
        assert journey["blocked_requests"] == [], (name, output)
        steps = {step["name"]: step["status"] for step in journey["steps"]}
        assert set(steps.values()) == {"passed"}, (name, steps)
    # every check the README promises for these profiles ran: nothing was skipped
    sandbox_steps = [step["name"] for step in journeys["payment-sandbox"]["steps"]]
    assert "3-D Secure challenge failed: declined" in sandbox_steps, sandbox_steps
    assert "3-D Secure challenge passed: charged" in sandbox_steps, sandbox_steps
    checkout_steps = [step["name"] for step in journeys["product-to-checkout"]["steps"]]
    assert "cancel test order" in checkout_steps, checkout_steps
    if payment == "redirect":
        assert "pay on Demo Pay" in checkout_steps, checkout_steps
        # a decline shown on the provider's page is said to come from there, not the shop
        declined = {s["name"]: s["message"] for s in journeys["payment-sandbox"]["steps"]}
        # (the port came from ${ENV} here, so it is redacted as a secret would be)
        assert (
            declined["decline card is declined"].startswith("the page at http://pay.localhost:")
            and ' said "Your card was declined.' in declined["decline card is declined"]
        ), declined
