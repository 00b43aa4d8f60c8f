"""Hosted card fields in real Chromium: the provider's iframes on the shop's page, the card
tokenized on the provider's origin, the shop charging only the token."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, Request

from checkout_monitor.demo_shop import DemoShop
from support.browser_support import boutique_until_payment, browser, buy_until_payment, page

__all__ = ["browser", "page"]
pytestmark = pytest.mark.browser

CARD_FRAME = "iframe#card-frame"


@pytest.fixture(scope="module")
def classic_shop() -> Iterator[DemoShop]:
    with DemoShop(theme="classic", payment="hosted-fields") as running:
        yield running


@pytest.fixture(scope="module")
def boutique_shop() -> Iterator[DemoShop]:
    with DemoShop(theme="boutique", payment="hosted-fields") as running:
        yield running


def fill_card_element(page: Page, number: str) -> None:
    card = page.frame_locator(CARD_FRAME)
    card.locator("input[name=number]").fill(number)
    card.locator("input[name=expiry]").fill("12/34")
    card.locator("input[name=cvc]").fill("123")
    page.fill("#card_name", "Ana Lima")


def test_classic_card_element_pays_without_the_number_reaching_the_shop(
    page: Page, classic_shop: DemoShop
) -> None:
    posted: list[str] = []

    def remember(request: Request) -> None:
        if request.method == "POST":
            posted.append(f"{request.url} {request.post_data or ''}")

    page.on("request", remember)
    buy_until_payment(page, classic_shop)
    frame = page.locator(f"div#card-element > {CARD_FRAME}")
    assert (frame.get_attribute("src") or "").startswith(classic_shop.sandbox_public_url)
    assert page.locator("#card_number").count() == 0  # no card input of the shop's own
    fill_card_element(page, "4242 4242 4242 4242")
    page.click("#pay-now")
    page.wait_for_selector(".order-number")
    to_shop = [line for line in posted if line.startswith(classic_shop.shop_url)]
    assert to_shop and not any("4242" in line for line in to_shop)
    assert any(line.startswith(f"{classic_shop.sandbox_public_url}/v1/tokens") for line in posted)
    assert classic_shop.orders.list()[-1].charge_id.startswith("ch_")


def test_classic_not_a_test_card_is_shown_inside_the_iframe(
    page: Page, classic_shop: DemoShop
) -> None:
    buy_until_payment(page, classic_shop)
    fill_card_element(page, "4111 1111 1111 1111")
    page.click("#pay-now")
    error = page.frame_locator(CARD_FRAME).locator("#card-errors")
    error.filter(has_text="not accepted").wait_for()
    assert page.url.endswith("/checkout/payment")


def test_classic_decline_is_shown_on_the_shop_page(page: Page, classic_shop: DemoShop) -> None:
    buy_until_payment(page, classic_shop)
    fill_card_element(page, "4000 0000 0000 0002")
    page.click("#pay-now")
    assert "declined" in page.locator(".payment-error").inner_text()


def test_boutique_split_fields_pay_at_review(page: Page, boutique_shop: DemoShop) -> None:
    boutique_until_payment(page, boutique_shop)
    page.frame_locator("iframe[name=number-frame]").locator("input").fill("4242424242424242")
    page.frame_locator("iframe[name=expiry-frame]").locator("input").fill("12/34")
    page.frame_locator("iframe[name=cvc-frame]").locator("input").fill("123")
    page.fill('input[name="payment[holder]"]', "Ana Lima")
    page.click("#to-review")
    assert page.locator(".review-card").inner_text() == "Card ending 4242"
    page.check("input[name=terms]")
    page.click("#place-order")
    assert re.search(r"CM-\d+", page.locator("#confirmation-code").inner_text())


def test_boutique_bad_expiry_is_shown_in_its_own_frame(page: Page, boutique_shop: DemoShop) -> None:
    boutique_until_payment(page, boutique_shop)
    page.frame_locator("iframe[name=number-frame]").locator("input").fill("4242424242424242")
    page.frame_locator("iframe[name=expiry-frame]").locator("input").fill("13/99")
    page.frame_locator("iframe[name=cvc-frame]").locator("input").fill("123")
    page.fill('input[name="payment[holder]"]', "Ana Lima")
    page.click("#to-review")
    expiry = page.frame_locator("iframe[name=expiry-frame]").locator(".hosted-field-error")
    expiry.filter(has_text="expiry date is invalid").wait_for()
    assert page.url.endswith("/checkout/payment")


def test_script_down_leaves_no_card_fields(page: Page, classic_shop: DemoShop) -> None:
    classic_shop.faults.enable("hosted-fields-script-down")
    try:
        script = httpx.get(f"{classic_shop.sandbox_url}/v1/elements.js")
        assert script.status_code == 503
        buy_until_payment(page, classic_shop)
        page.wait_for_load_state("load")
        assert page.locator(CARD_FRAME).count() == 0
    finally:
        classic_shop.faults.disable("hosted-fields-script-down")


def test_token_endpoint_refuses_unknown_cards(classic_shop: DemoShop) -> None:
    card = {"number": "4111111111111111", "expiry": "12/34", "cvc": "123"}
    response = httpx.post(f"{classic_shop.sandbox_url}/v1/tokens", json=card)
    assert response.status_code == 400
    assert response.json()["field"] == "number"
    card["number"] = "4242424242424242"
    token = httpx.post(f"{classic_shop.sandbox_url}/v1/tokens", json=card).json()
    assert token["last4"] == "4242" and token["id"].startswith("tok_")
