"""A target the journey cannot use is reported as what it is: in a frame that never loaded,
on the page but hidden, or covered by another element; never as a slow shop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.element_actions import covering_element
from checkout_monitor.frames import Target, parse_target
from cli_support import run_cli, write_shop_config

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
