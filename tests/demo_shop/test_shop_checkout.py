"""Classic checkout over HTTP: tokens, address validation, every sandbox card outcome."""

from __future__ import annotations

import re

import httpx
import pytest

from checkout_monitor.demo_shop import TEST_CARDS, DemoShop
from support.shop_http import GOOD_ADDRESS, ClassicCheckout, admin, hidden_value, text_of

EXPIRED = "Your session expired. Please return to your cart and try again."


def test_empty_cart_checkout_redirects_to_cart(client: httpx.Client) -> None:
    response = client.get("/checkout")
    assert (response.status_code, response.headers["location"]) == (303, "/cart")


def test_shipping_step_before_address_redirects(checkout: ClassicCheckout) -> None:
    checkout.add()
    response = checkout.http.get("/checkout/shipping")
    assert response.headers["location"] == "/checkout"


def test_address_form_markup(checkout: ClassicCheckout) -> None:
    checkout.add()
    html = checkout.http.get("/checkout").text
    for selector in ("email", "full_name", "address1", "city", "postcode"):
        assert f'id="{selector}" name="{selector}"' in html
    assert '<select id="country" name="country">' in html
    assert re.fullmatch(r"[0-9a-f]{32}", hidden_value(html, "checkout_token"))
    assert '<button id="continue-to-shipping" type="submit">' in html


@pytest.mark.parametrize("token", [None, "", "0" * 32])
def test_missing_or_wrong_token_is_409(
    shop: DemoShop, checkout: ClassicCheckout, token: str | None
) -> None:
    checkout.add()
    checkout.token()
    data = dict(GOOD_ADDRESS)
    if token is not None:
        data["checkout_token"] = token
    response = checkout.http.post("/checkout/address", data=data)
    assert response.status_code == 409
    assert text_of(response.text, "checkout-error") == [EXPIRED]


def test_replayed_payment_form_is_refused(shop: DemoShop, checkout: ClassicCheckout) -> None:
    checkout.add()
    token = checkout.to_payment()
    assert checkout.pay(token).status_code == 303
    checkout.add()  # a new cart, but the old form is posted again
    replay = checkout.pay(token)
    assert replay.status_code == 409
    assert text_of(replay.text, "checkout-error") == [EXPIRED]
    assert len(shop.orders.list()) == 1


def test_invalid_address_is_422_with_field_errors(checkout: ClassicCheckout) -> None:
    checkout.add()
    token = checkout.token()
    bad = {
        "checkout_token": token,
        "email": "ana@example",
        "full_name": " ",
        "address1": "Somewhere 1",
        "city": "Berlin",
        "postcode": "1",
        "country": "US",
    }
    response = checkout.http.post("/checkout/address", data=bad)
    assert response.status_code == 422
    assert len(text_of(response.text, "field-error")) == 4
    assert text_of(response.text, "form-errors")
    assert 'value="Somewhere 1"' in response.text


@pytest.mark.parametrize(
    ("shipping", "code", "subtotal", "discount", "shipping_cents", "total"),
    [
        ("standard", None, 2400, 0, 490, 2890),
        ("express", "SAVE10", 2400, 240, 1200, 3360),
    ],
)
def test_approved_card_creates_the_order(
    shop: DemoShop,
    checkout: ClassicCheckout,
    shipping: str,
    code: str | None,
    subtotal: int,
    discount: int,
    shipping_cents: int,
    total: int,
) -> None:
    checkout.add()
    if code:
        checkout.discount(code)
    token = checkout.to_payment(shipping)
    payment_page = checkout.http.get("/checkout/payment").text
    assert text_of(payment_page, "summary-total") == [f"€{total // 100}.{total % 100:02d}"]
    response = checkout.pay(token, **{"User-Agent": "checkout-monitor/1.0"})
    assert response.status_code == 303
    assert response.headers["location"] == "/orders/CM-100001/confirmation"
    confirmation = checkout.http.get(response.headers["location"]).text
    assert "<h1>Thank you for your order</h1>" in confirmation
    assert text_of(confirmation, "order-number") == ["CM-100001"]
    (order,) = shop.orders.list()
    assert (order.subtotal_cents, order.discount_cents) == (subtotal, discount)
    assert (order.shipping_method, order.shipping_cents) == (shipping, shipping_cents)
    assert (order.total_cents, order.discount_code, order.status) == (total, code, "paid")
    assert order.synthetic is True
    assert text_of(checkout.http.get("/cart").text, "cart-count") == ["0"]


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("4000 0000 0000 0002", "Your card was declined. Please use a different card."),
        ("4000-0000-0000-9995", "Your card has insufficient funds."),
        ("4111 1111 1111 1111", "This card number is not accepted here (not a test card)."),
    ],
)
def test_refused_cards_are_402_and_create_nothing(
    shop: DemoShop, checkout: ClassicCheckout, card: str, message: str
) -> None:
    checkout.add()
    token = checkout.to_payment()
    response = checkout.pay(token, card)
    assert response.status_code == 402
    assert text_of(response.text, "payment-error") == [message]
    assert shop.orders.list() == []
    assert checkout.pay(token).status_code == 303  # the same session can still pay


def test_card_shape_errors_are_422(checkout: ClassicCheckout) -> None:
    checkout.add()
    token = checkout.to_payment()
    data = {"checkout_token": token, "card_number": "42", "card_expiry": "13/99", "card_cvc": "x"}
    response = checkout.http.post("/checkout/payment", data=data)
    assert response.status_code == 422
    assert len(text_of(response.text, "field-error")) == 4


def test_unreachable_provider_is_502(shop: DemoShop, checkout: ClassicCheckout) -> None:
    checkout.add()
    token = checkout.to_payment()
    shop._served[0].stop()  # the sandbox goes away: connection refused
    response = checkout.pay(token)
    assert response.status_code == 502
    assert text_of(response.text, "payment-error") == [
        "Our payment provider is not responding. Please try again in a few minutes."
    ]
    assert shop.orders.list() == []


def test_human_orders_are_not_synthetic(shop: DemoShop, checkout: ClassicCheckout) -> None:
    checkout.add()
    checkout.pay(checkout.to_payment(), **{"User-Agent": "Mozilla/5.0"})
    checkout.add()
    checkout.pay(checkout.to_payment(), **{"X-Synthetic-Monitor": "1"})
    assert [order.synthetic for order in shop.orders.list()] == [False, True]


def test_test_cards_constant() -> None:
    assert TEST_CARDS == {
        "4242424242424242": "approved",
        "4000000000000002": "card_declined",
        "4000000000009995": "insufficient_funds",
    }


def test_orders_api(shop: DemoShop, checkout: ClassicCheckout) -> None:
    checkout.add()
    checkout.pay(checkout.to_payment(), **{"User-Agent": "checkout-monitor/1.0"})
    with httpx.Client(base_url=shop.shop_url) as http:
        assert http.get("/api/orders").status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert http.get("/api/orders/CM-100001", headers=wrong).status_code == 401
        assert http.post("/api/orders/CM-100001/cancel", headers=wrong).status_code == 401
        (order,) = http.get("/api/orders", headers=admin(shop)).json()["orders"]
        assert order["number"] == "CM-100001"
        assert order["items"] == [
            {
                "slug": "speckled-mug",
                "name": "Speckled Stoneware Mug",
                "quantity": 1,
                "unit_price_cents": 2400,
            }
        ]
        assert order["currency"] == "EUR" and order["synthetic"] is True
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", order["created_at"])
        assert http.get("/api/orders/CM-100001", headers=admin(shop)).json() == order
        assert http.get("/api/orders/CM-999999", headers=admin(shop)).status_code == 404
        cancelled = http.post("/api/orders/CM-100001/cancel", headers=admin(shop)).json()
        assert cancelled["status"] == "cancelled"
        charge = httpx.get(f"{shop.sandbox_url}/v1/charges/{order['charge_id']}").json()
        assert charge["status"] == "refunded"
    assert shop.orders.get("CM-100001").status == "cancelled"  # type: ignore[union-attr]
