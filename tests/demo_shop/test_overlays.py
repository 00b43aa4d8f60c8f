"""Overlays in real Chromium: a consent wall on a first visit and a newsletter pop-up a
moment into a page, each covering the page until dismissed; and the boutique's voucher
form hidden behind a button."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from checkout_monitor.demo_shop import DemoShop
from support.browser_support import browser, page

__all__ = ["browser", "page"]
pytestmark = pytest.mark.browser
BOTH = ("cookie-banner", "newsletter")


def test_unknown_overlay_and_payment_mode_are_refused() -> None:
    with pytest.raises(ValueError, match="valid overlays: cookie-banner, newsletter"):
        DemoShop(overlays=["chat"])
    with pytest.raises(ValueError, match="valid payment modes: form, hosted-fields, redirect"):
        DemoShop(payment="paypal")


def blocked_click(page: Page, selector: str) -> bool:
    """Whether a click on `selector` lands on something else (an overlay)."""
    try:
        page.click(selector, timeout=1000)
    except PlaywrightError as error:
        return "intercepts pointer events" in error.message
    return False


def test_classic_overlays_cover_the_page_until_dismissed(page: Page) -> None:
    with DemoShop(overlays=BOTH, newsletter_delay=0.3) as shop:
        page.goto(f"{shop.shop_url}/products/speckled-mug")
        assert blocked_click(page, "#add-to-cart")
        page.click("#accept-cookies")
        assert page.locator("#cookie-consent").count() == 0
        page.locator("#newsletter-modal").wait_for(state="visible")
        assert blocked_click(page, "#add-to-cart")
        page.click("#newsletter-modal button.newsletter-close")
        page.click("#add-to-cart")
        page.wait_for_selector('#cart-notice:has-text("Added to your cart")')
        page.reload()  # both remembered in cookies
        page.wait_for_timeout(600)
        assert page.locator("#cookie-consent, #newsletter-modal").count() == 0


def test_boutique_overlays_have_their_own_markup(page: Page) -> None:
    with DemoShop(theme="boutique", overlays=BOTH, newsletter_delay=0.2) as shop:
        page.goto(f"{shop.shop_url}/shop/speckled-mug")
        assert blocked_click(page, "button.add-to-basket")
        page.click("div.consent-wall button[data-consent=accept]")
        page.locator("dialog#signup").wait_for(state="visible")
        page.click("dialog#signup button.close-signup")
        page.click("button.add-to-basket")
        page.wait_for_selector(".flash-success")


def test_stuck_overlay_cannot_be_dismissed_even_without_overlays(page: Page) -> None:
    with DemoShop(faults=["overlay-stuck"]) as shop:
        page.goto(f"{shop.shop_url}/products/speckled-mug")
        page.click("#accept-cookies")
        page.wait_for_timeout(300)
        assert page.locator("#cookie-consent").is_visible()
        assert blocked_click(page, "#add-to-cart")


def test_no_overlays_by_default(page: Page) -> None:
    with DemoShop(newsletter_delay=0) as shop:
        page.goto(f"{shop.shop_url}/products/speckled-mug")
        page.wait_for_timeout(200)
        assert page.locator("#cookie-consent, #newsletter-modal").count() == 0


def test_boutique_voucher_form_is_behind_a_button(page: Page) -> None:
    with DemoShop(theme="boutique") as shop:
        page.goto(f"{shop.shop_url}/shop/speckled-mug")
        page.click("button.add-to-basket")
        assert not page.locator("input[name=voucher]").is_visible()
        page.click("button.show-voucher")
        page.fill("input[name=voucher]", "SAVE10")
        page.click("button.apply-voucher")
        assert "SAVE10" in page.locator(".basket-discount").locator("..").inner_text()
