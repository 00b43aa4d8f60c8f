"""The redirect payment mode: the shop opens a session server to server, the shopper pays on
the sandbox's hosted page (another site) and comes back with a signed result that the shop
verifies, confirms, and turns into one order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page

from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.demo_shop.signatures import sign_result
from support.browser_support import boutique_until_payment, browser, buy_until_payment, page
from support.shop_http import ClassicCheckout

__all__ = ["browser", "page"]


@pytest.fixture(scope="module")
def classic_shop() -> Iterator[DemoShop]:
    with DemoShop(theme="classic", payment="redirect") as running:
        yield running


def pay_on_hosted_page(page: Page, number: str) -> None:
    page.fill("#number", number)
    page.fill("#expiry", "12/34")
    page.fill("#cvc", "123")
    page.fill("#holder", "Ana Lima")
    page.click("#submit-payment")


def to_hosted_page(checkout: ClassicCheckout) -> httpx.Response:
    """Over plain HTTP: the classic checkout up to the 303 to the hosted payment page."""
    checkout.add()
    token = checkout.to_payment()
    return checkout.http.post("/checkout/payment", data={"checkout_token": token})


def pay_over_http(shop: DemoShop, hosted_url: str) -> str:
    """Pay on the hosted page without a browser; the return URL the sandbox sends back to."""
    public = urlsplit(hosted_url)
    path = public.path
    card = {"number": "4242424242424242", "expiry": "12/34", "cvc": "123", "holder": "Ana"}
    answer = httpx.post(f"{shop.sandbox_url}{path}", data=card)
    assert answer.status_code == 303
    return answer.headers["location"]


@pytest.mark.browser
def test_classic_pays_on_the_hosted_page_and_comes_back(page: Page, classic_shop: DemoShop) -> None:
    buy_until_payment(page, classic_shop)
    assert "You will pay on Demo Pay" in page.locator("form#redirect-form").inner_text()
    page.click("#continue-to-demo-pay")
    page.wait_for_selector("form#hosted-payment")
    assert page.url.startswith(f"{classic_shop.sandbox_public_url}/pay/ps_")
    pay_on_hosted_page(page, "4000 0000 0000 0002")
    assert "declined" in page.locator(".pay-error").inner_text()
    pay_on_hosted_page(page, "4242 4242 4242 4242")  # the shopper may try again
    number = page.locator(".order-number").inner_text()
    assert page.url.startswith(classic_shop.shop_url)
    assert classic_shop.orders.get(re.search(r"CM-\d+", number)[0]) is not None  # type: ignore[index]


@pytest.mark.browser
def test_boutique_multi_page_flow_through_demo_pay(page: Page) -> None:
    with DemoShop(theme="boutique", payment="redirect") as shop:
        boutique_until_payment(page, shop)
        page.check("input[name=method][value=demo-pay]")
        page.click("#to-review")
        page.check("input[name=terms]")
        page.click("#place-order")
        page.wait_for_selector("form#hosted-payment")
        pay_on_hosted_page(page, "4242424242424242")
        assert "CM-" in page.locator("#confirmation-code").inner_text()
        assert len(shop.orders.list()) == 1


@pytest.mark.browser
def test_no_return_fault_keeps_the_shopper_on_the_hosted_page(
    page: Page, classic_shop: DemoShop
) -> None:
    classic_shop.faults.enable("payment-no-return")
    try:
        buy_until_payment(page, classic_shop)
        page.click("#continue-to-demo-pay")
        pay_on_hosted_page(page, "4242424242424242")
        assert "Returning you to the shop" in page.locator(".pay-success").inner_text()
        page.wait_for_timeout(500)
        assert page.url.startswith(classic_shop.sandbox_public_url)
    finally:
        classic_shop.faults.disable("payment-no-return")


def test_return_is_verified_and_makes_one_order(classic_shop: DemoShop) -> None:
    before = len(classic_shop.orders.list())
    with httpx.Client(base_url=classic_shop.shop_url) as http:
        checkout = ClassicCheckout(http)
        hosted = to_hosted_page(checkout)
        assert hosted.status_code == 303
        assert hosted.headers["location"].startswith(f"{classic_shop.sandbox_public_url}/pay/")
        back = pay_over_http(classic_shop, hosted.headers["location"])
        assert back.startswith(f"{classic_shop.shop_url}/checkout/payment/return?")
        query = parse_qs(urlsplit(back).query)
        assert query["result"] == ["approved"] and len(query["signature"][0]) == 64

        tampered = back.replace(query["signature"][0], "0" * 64)
        refused = http.get(tampered)
        assert refused.status_code == 400
        assert "could not verify this payment" in refused.text
        assert len(classic_shop.orders.list()) == before

        first = http.get(back)
        assert first.status_code == 303
        replayed = http.get(back)
        assert replayed.headers["location"] == first.headers["location"]
    # from another browser too: the order the first return made, never a second one
    again = httpx.get(back)
    assert again.headers["location"] == first.headers["location"]
    assert len(classic_shop.orders.list()) == before + 1


def test_a_signed_but_unpaid_session_is_refused(classic_shop: DemoShop) -> None:
    with httpx.Client(base_url=classic_shop.shop_url) as http:
        hosted = to_hosted_page(ClassicCheckout(http))
        session_id = hosted.headers["location"].rsplit("/", 1)[1]
        # a result signed for "approved" that the sandbox never confirmed as paid
        signature = sign_result(classic_shop._secret, session_id, "approved")
        answer = http.get(
            "/checkout/payment/return",
            params={"session": session_id, "result": "approved", "signature": signature},
        )
        assert answer.status_code == 402
        assert "no record of this payment" in answer.text


def test_hosted_page_refuses_bad_cards_on_its_own_page(classic_shop: DemoShop) -> None:
    with httpx.Client(base_url=classic_shop.shop_url) as http:
        hosted = to_hosted_page(ClassicCheckout(http))
    path = urlsplit(hosted.headers["location"]).path
    card = {"number": "4111111111111111", "expiry": "12/34", "cvc": "123", "holder": "Ana"}
    answer = httpx.post(f"{classic_shop.sandbox_url}{path}", data=card)
    assert answer.status_code == 422
    assert "not accepted" in answer.text and 'class="pay-error"' in answer.text
