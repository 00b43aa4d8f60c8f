"""Real Chromium for the demo shop's browser tests: one browser per test module, a fresh
context (no cookies) per test, as a new shopper."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from checkout_monitor.browser.chromium import LAUNCH_FLAGS, find_chromium
from checkout_monitor.demo_shop import DemoShop

TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=find_chromium(None), headless=True, args=list(LAUNCH_FLAGS)
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


def buy_until_payment(page: Page, shop: DemoShop) -> None:
    """Add a mug and walk the classic checkout up to its payment page."""
    page.goto(f"{shop.shop_url}/products/speckled-mug")
    page.click("#add-to-cart")
    page.wait_for_selector('#cart-notice:has-text("Added to your cart")')
    page.goto(f"{shop.shop_url}/checkout")
    page.fill("#email", "ana@example.com")
    page.fill("#full_name", "Ana Lima")
    page.fill("#address1", "Hauptstrasse 5")
    page.fill("#city", "Berlin")
    page.fill("#postcode", "10115")
    page.click("#continue-to-shipping")
    page.click("#continue-to-payment")
    page.wait_for_selector("h1:has-text('Payment')")


def boutique_until_payment(page: Page, shop: DemoShop) -> None:
    """Add a mug and walk the boutique checkout up to its payment page."""
    page.goto(f"{shop.shop_url}/shop/speckled-mug")
    page.click("button.add-to-basket")
    page.goto(f"{shop.shop_url}/checkout/details")
    page.click("#guest-checkout")
    page.fill('input[name="contact[email]"]', "ana@example.com")
    page.fill('input[name="shipping[name]"]', "Ana Lima")
    page.fill('input[name="shipping[street]"]', "Hauptstrasse 5")
    page.fill('input[name="shipping[town]"]', "Berlin")
    page.fill('input[name="shipping[zip]"]', "10115")
    page.click("#to-delivery")
    page.click("#to-payment")
    page.wait_for_url(re.compile(r"/checkout/payment$"))
