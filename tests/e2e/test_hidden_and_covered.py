"""A target the journey cannot use is reported as what it is: in a frame that never loaded,
on the page but hidden, or covered by another element; never as a slow shop."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from checkout_monitor.browser.frames import Target, parse_target
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.shop.element_actions import covering_element
from support.cli_support import run_cli, write_shop_config

StartShop = Callable[..., DemoShop]

# Playwright's own call logs for a click that landed on something else (Chromium 156).
_WALL = (
    "  - done scrolling\n"
    '      - <p class="x">We use cookies</p> from <div class="wall" id="cookie-consent">'
    "…</div> subtree intercepts pointer events\n    - retrying click action\n"
)
_PLAIN = '      - <div id="newsletter-modal" class="modal">…</div> intercepts pointer events\n'


@pytest.mark.parametrize(
    ("call_log", "on_top"),
    [
        (_WALL, '<div class="wall" id="cookie-consent">'),
        (_PLAIN, '<div id="newsletter-modal" class="modal">'),
        ("  - waiting for element to be visible, enabled and stable\n", None),
    ],
)
def test_the_element_on_top_is_read_from_playwrights_call_log(
    call_log: str, on_top: str | None
) -> None:
    assert covering_element(call_log) == on_top


@pytest.mark.parametrize(
    ("written", "target"),
    [
        ("#pay-now", Target((), "#pay-now")),
        (
            "iframe#card-frame >>> input[name=number]",
            Target(("iframe#card-frame",), "input[name=number]"),
        ),
        (
            "iframe#three-ds-frame>>>iframe#acs-frame >>> button#complete-auth",
            Target(("iframe#three-ds-frame", "iframe#acs-frame"), "button#complete-auth"),
        ),
        # Playwright's own chaining (>>) is left to Playwright
        ("form >> text=Pay", Target((), "form >> text=Pay")),
    ],
)
def test_frame_chains_are_split_at_three_angles(written: str, target: Target) -> None:
    assert parse_target(written) == target


@pytest.mark.browser
def test_a_form_behind_a_click_is_reported_hidden_not_slow(
    start_shop: StartShop, tmp_path: Path
) -> None:
    """The boutique theme hides its details form behind "Continue as guest": a profile
    without that reveal meets a hidden field, and is told it is the theme or the profile."""
    shop = start_shop(theme="boutique")
    pages = [
        {
            "step": "fill details",
            "present": "form#details",
            "fill": {'input[name="contact[email]"]': "{customer.email}"},
            "submit": "button#to-delivery",
        }
    ]
    config = write_shop_config(
        tmp_path / "c.yaml",
        shop,
        profile="demo-boutique",
        storefront={"checkout": {"pages": pages}},
        defaults={"step_timeout": "3s"},
    )
    result = run_cli("run-smoke", "--config", str(config))
    assert result.returncode == 1, result.stdout + result.stderr
    said = (
        "FAIL  fill details",
        "element_hidden: the 'fill details' page's field (input[name=\"contact[email]\"]) is "
        "on the page but hidden, so it could not be filled in: the theme hides it (if a "
        "button shows it first, set that button as the profile's reveal)",
        "What to do: The element is on the page but hidden from shoppers, so it could not be "
        "used. This is the theme or the storefront profile, not the hosting",
    )
    for words in said:
        assert words in result.stdout
    assert "too slow" not in result.stdout


def _smoke(*args: str) -> tuple[int, str]:
    result = run_cli("run-smoke", "--retries", "0", *args)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    return result.returncode, output


@pytest.mark.browser
def test_an_overlay_nobody_declared_is_named_as_what_took_the_click(
    start_shop: StartShop, tmp_path: Path
) -> None:
    shop = start_shop(overlays=["cookie-banner"])
    config = write_shop_config(
        tmp_path / "c.yaml", shop, storefront={"overlays": []}, defaults={"step_timeout": "3s"}
    )
    code, output = _smoke("--config", str(config))
    assert code == 1, output
    assert (
        "FAIL  add to cart" in output
        and "overlay_blocking: the add-to-cart button (#add-to-cart) could not be clicked: the "
        'element <div role="dialog" aria-modal="true" id="cookie-consent" '
        'aria-labelledby="cookie-consent-title"> is on top of it and takes the click; if it '
        "is a banner or pop-up shoppers close, declare it in storefronts.shop.overlays"
        in output
    ), output


@pytest.mark.browser
def test_a_declared_overlay_that_will_not_close_is_named(tmp_path: Path) -> None:
    code, output = _smoke(
        "--demo", "--fault", "overlay-stuck", "--journey", "product-to-checkout",
        "--step-timeout", "3s",
    )  # fmt: skip
    assert code == 1, output
    assert (
        "overlay_blocking: the cookie banner (#cookie-consent) still covers the page after its "
        "close button (#accept-cookies) was clicked, so the add-to-cart button (#add-to-cart) "
        "could not be clicked: shoppers cannot close it either" in output
    ), output


@pytest.mark.browser
def test_overlays_are_closed_whenever_they_show(tmp_path: Path) -> None:
    """The newsletter pop-up comes a moment into each page, the consent wall with each new
    shopper: both are closed as they come, and counted."""
    report = tmp_path / "report.json"
    code, output = _smoke(
        "--demo", "--theme", "boutique", "--overlay", "cookie-banner", "--overlay",
        "newsletter", "--journey", "discount-codes", "--json", str(report),
    )  # fmt: skip
    assert code == 0, output
    (journey,) = json.loads(report.read_text())["journeys"]
    assert journey["counts"]["overlays_dismissed"] >= 5  # a wall per fresh cart, at least


@pytest.mark.browser
def test_card_fields_that_never_load_name_their_frame_and_script() -> None:
    code, output = _smoke(
        "--demo", "--payment", "hosted-fields", "--fault", "hosted-fields-script-down",
        "--journey", "product-to-checkout", "--step-timeout", "5s",
    )  # fmt: skip
    assert code == 1, output
    said = re.search(r"FAIL  pay .*payment_fields_unavailable: (.*)", output)
    assert said is not None, output
    assert re.fullmatch(
        r"the 'pay' page's field is inside the frame iframe#card-frame, which is not on the "
        r"page; a script it needs did not load: http://pay\.localhost:\d+/v1/elements\.js "
        r"\((HTTP 503|its answer was not JavaScript, an error page perhaps: "
        r"net::ERR_BLOCKED_BY_ORB)\)",
        said[1],
    ), said[1]
    assert "What to do: The payment provider's card fields did not load" in output


@pytest.mark.browser
def test_a_provider_that_never_sends_the_shopper_back() -> None:
    code, output = _smoke(
        "--demo", "--payment", "redirect", "--fault", "payment-no-return",
        "--journey", "product-to-checkout", "--step-timeout", "5s",
    )  # fmt: skip
    assert code == 1, output
    said = re.search(r"payment_redirect_failed: (.*)", output)
    assert said is not None, output
    assert re.fullmatch(
        r"the shopper is still on http://pay\.localhost:\d+, which never sent them back to the "
        r"shop \(expected the order confirmation\); the browser shows \".*\" at "
        r"http://pay\.localhost:\d+/pay/\S+",
        said[1],
    ), said[1]


@pytest.mark.browser
def test_a_provider_page_the_profile_does_not_name_is_refused_at_once(
    start_shop: StartShop, tmp_path: Path
) -> None:
    shop = start_shop(payment="redirect")
    config = write_shop_config(
        tmp_path / "c.yaml", shop, profile="demo-redirect", storefront={"allowed_hosts": []}
    )
    code, output = _smoke("--config", str(config))
    assert code == 1, output
    port = urlsplit(shop.sandbox_public_url).port
    assert re.search(
        rf"host_not_allowed: the shop sent the browser to http://pay\.localhost:{port}/pay/\S+: "
        rf"host pay\.localhost:{port} is not in storefronts\.shop\.allowed_hosts: add it there "
        "if it is yours",
        output,
    ), output


@pytest.mark.browser
def test_a_challenge_that_never_finishes() -> None:
    code, output = _smoke(
        "--demo", "--fault", "three-ds-stuck", "--journey", "payment-sandbox",
        "--step-timeout", "8s",
    )  # fmt: skip
    assert code == 1, output
    said = re.search(
        r"FAIL  3-D Secure challenge passed: charged .*three_d_secure_failed: (.*)", output
    )
    assert said is not None, output
    assert said[1].startswith(
        "answered the 3-D Secure challenge (complete: button#complete-auth), but it never "
        "finished: it still shows over "
    ), said[1]
    # the evidence names the frames the challenge was in, nested, with their URLs
    screenshot = re.search(r"Screenshot: (\S+)", output)
    assert screenshot is not None, output
    frames = (Path(screenshot[1]).parent / "frames.txt").read_text().splitlines()
    challenge = [n for n, line in enumerate(frames) if "/3ds/" in line]
    assert challenge, frames
    assert any(frames[n].startswith("  http://pay.localhost:") for n in challenge), frames
