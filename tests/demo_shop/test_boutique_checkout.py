"""The boutique theme's checkout over HTTP: details, delivery, payment, review, in that order."""

from __future__ import annotations

import re

import httpx
import pytest

from checkout_monitor.demo_shop import DemoShop
from support.shop_http import (
    APPROVE,
    BOUTIQUE_DETAILS,
    BoutiqueCheckout,
    boutique_card,
    hidden_value,
    session_cookie_text,
    text_of,
)

EXPIRED = "Your session has expired, please reload the page."
TERMS = "Please agree to the terms to place your order."
PAGES = ("details", "delivery", "payment", "review")


def _hidden(html: str, form_id: str) -> bool:
    match = re.search(rf'<form id="{form_id}"[^>]*>', html)
    assert match, f"no form#{form_id}"
    return match.group(0).endswith(" hidden>")


@pytest.mark.parametrize("page", PAGES)
def test_empty_basket_goes_back_to_the_basket(boutique_client: httpx.Client, page: str) -> None:
    response = boutique_client.get(f"/checkout/{page}")
    assert (response.status_code, response.headers["location"]) == (303, "/basket")


@pytest.mark.parametrize(
    ("done", "page", "location"),
    [
        ("details", "delivery", "/checkout/details"),
        ("details", "payment", "/checkout/details"),
        ("details", "review", "/checkout/details"),
        ("delivery", "payment", "/checkout/delivery"),
        ("delivery", "review", "/checkout/delivery"),
        ("payment", "review", "/checkout/payment"),
    ],
)
def test_skipping_ahead_redirects_to_the_first_missing_page(
    boutique_checkout: BoutiqueCheckout, done: str, page: str, location: str
) -> None:
    """`done` is the first page not completed yet."""
    boutique_checkout.add()
    boutique_checkout.to(done)
    response = boutique_checkout.http.get(f"/checkout/{page}")
    assert (response.status_code, response.headers["location"]) == (303, location)


def test_the_old_one_page_checkout_redirects(boutique_checkout: BoutiqueCheckout) -> None:
    boutique_checkout.add()
    response = boutique_checkout.http.get("/checkout/onepage")
    assert (response.status_code, response.headers["location"]) == (302, "/checkout/details")


def test_details_form_is_hidden_behind_the_guest_choice(
    boutique_checkout: BoutiqueCheckout,
) -> None:
    boutique_checkout.add()
    html = boutique_checkout.http.get("/checkout/details").text
    assert '<form id="sign-in" class="panel" method="post" action="/checkout/sign-in">' in html
    assert '<button id="guest-checkout" type="button">Continue as guest</button>' in html
    assert _hidden(html, "details")
    token = hidden_value(html, "_token")
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert f'<meta name="csrf-token" content="{token}">' in html
    for name in list(BOUTIQUE_DETAILS)[:-1]:
        assert f'<input id="{name.replace("[", "-").replace("]", "")}" name="{name}"' in html
    assert '<select id="shipping-country" name="shipping[country]">' in html
    assert '<button id="to-delivery" type="submit">Continue to delivery</button>' in html
    assert 'getElementById("guest-checkout").addEventListener("click"' in html
    for later in ("delivery", "card-details", "review"):
        assert f'<form id="{later}"' not in html


def test_sign_in_is_not_available(boutique_checkout: BoutiqueCheckout) -> None:
    boutique_checkout.add()
    html = boutique_checkout.http.post("/checkout/sign-in", data={"email": "a@b.c"}).text
    assert text_of(html, "alert-info") == [
        "Sign-in is not available in the demo. Please continue as guest."
    ]
    assert _hidden(html, "details")


def test_invalid_details_are_422_with_the_form_showing(
    boutique_checkout: BoutiqueCheckout,
) -> None:
    boutique_checkout.add()
    token = boutique_checkout.token()
    details = {**BOUTIQUE_DETAILS, "contact[email]": "ana@", "shipping[zip]": "1"}
    response = boutique_checkout.post("details", token, **details)
    assert response.status_code == 422
    assert not _hidden(response.text, "details")
    assert '<section id="checkout-choice" class="choice" hidden>' in response.text
    assert 'class="alert alert-danger"' in response.text
    assert "Enter a valid email address" in response.text
    assert "Enter a valid postcode" in response.text
    assert 'value="Rue de Rivoli 1"' in response.text


def test_details_are_kept_when_coming_back(boutique_checkout: BoutiqueCheckout) -> None:
    boutique_checkout.add()
    boutique_checkout.to("delivery")
    html = boutique_checkout.http.get("/checkout/details").text
    assert not _hidden(html, "details")  # the buyer already chose to check out as guest
    assert 'value="ana@example.com"' in html
    assert '<option value="FR" selected>' in html


def test_delivery_page(boutique_checkout: BoutiqueCheckout) -> None:
    boutique_checkout.add()
    token = boutique_checkout.to("delivery")
    html = boutique_checkout.http.get("/checkout/delivery").text
    assert hidden_value(html, "_token") == token
    assert '<select id="delivery-method" name="delivery">' in html
    assert '<option value="standard" selected>' in html
    assert '<option value="express">' in html
    assert '<button id="to-payment" type="submit">Continue to payment</button>' in html
    refused = boutique_checkout.post("delivery", token, delivery="drone")
    assert refused.status_code == 422
    assert text_of(refused.text, "alert-danger") == ["Choose a delivery option"]


def test_payment_page_charges_nothing_and_keeps_the_card_off_the_cookie(
    boutique: DemoShop, boutique_checkout: BoutiqueCheckout
) -> None:
    boutique_checkout.add()
    token = boutique_checkout.to("payment")
    html = boutique_checkout.http.get("/checkout/payment").text
    assert hidden_value(html, "_token") == token
    for name in ("payment[number]", "payment[exp]", "payment[cvv]", "payment[holder]"):
        assert f'name="{name}"' in html
    assert '<button id="to-review" type="submit">Review order</button>' in html
    boutique._served[0].stop()  # the sandbox goes away: a charge now would fail
    response = boutique_checkout.post("payment", token, **boutique_card())
    assert (response.status_code, response.headers["location"]) == (303, "/checkout/review")
    assert "4242" not in session_cookie_text(boutique_checkout.http)
    assert boutique.orders.list() == []


def test_card_shape_errors_are_422(boutique_checkout: BoutiqueCheckout) -> None:
    boutique_checkout.add()
    token = boutique_checkout.to("payment")
    fields = {"payment[number]": "42", "payment[exp]": "13/99", "payment[cvv]": "x"}
    response = boutique_checkout.post("payment", token, **fields)
    assert response.status_code == 422
    assert 'class="alert alert-danger"' in response.text
    for error in (
        "Enter your card number",
        "Enter the expiry date as MM/YY",
        "Enter the 3 or 4 digit security code",
        "Enter the name on the card",
    ):
        assert f"<li>{error}</li>" in response.text
    assert boutique_checkout.http.get("/checkout/review").headers["location"] == (
        "/checkout/payment"
    )


def test_review_page_sums_up_the_order(boutique_checkout: BoutiqueCheckout) -> None:
    boutique_checkout.add()
    boutique_checkout.http.post("/basket/voucher", data={"voucher": "TENOFF"})
    token = boutique_checkout.to("review", delivery="express")
    html = boutique_checkout.http.get("/checkout/review").text
    assert '<div class="review">' in html
    assert '<div class="review-item"><span>1 &times; Speckled Stoneware Mug</span>' in html
    assert text_of(html, "review-subtotal") == ["€24.00"]
    assert text_of(html, "review-discount") == ["-€10.00"]
    assert text_of(html, "review-shipping") == ["€12.00"]
    assert text_of(html, "review-total") == ["€26.00"]
    assert "Ana Lima<br>Rue de Rivoli 1<br>75001 Paris<br>France" in html
    assert text_of(html, "review-card") == ["Card ending 4242"]
    assert hidden_value(html, "_token") == token
    assert '<input type="checkbox" name="terms" value="yes" required> I agree to the terms' in html
    assert '<button id="place-order" type="submit">Place order</button>' in html


def test_terms_must_be_ticked(boutique: DemoShop, boutique_checkout: BoutiqueCheckout) -> None:
    boutique_checkout.add()
    token = boutique_checkout.to("review")
    response = boutique_checkout.post("review", token)
    assert response.status_code == 422
    assert text_of(response.text, "alert-danger") == [TERMS]
    assert boutique.orders.list() == []


def test_placing_the_order(boutique: DemoShop, boutique_checkout: BoutiqueCheckout) -> None:
    boutique_checkout.add()
    boutique_checkout.http.post("/basket/voucher", data={"voucher": "TENOFF"})
    token = boutique_checkout.to("review", delivery="express")
    response = boutique_checkout.place(token, **{"User-Agent": "checkout-monitor/1.0"})
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/order-received/CM-100001",
    )
    html = boutique_checkout.http.get(response.headers["location"]).text
    assert '<p id="confirmation-code">Order #CM-100001 confirmed</p>' in html
    (order,) = boutique.orders.list()
    assert (order.total_cents, order.discount_cents, order.shipping_cents) == (2600, 1000, 1200)
    assert (order.email, order.shipping_method, order.synthetic) == (
        "ana@example.com",
        "express",
        True,
    )
    assert text_of(boutique_checkout.http.get("/basket").text, "basket-qty") == ["0"]
    assert boutique_checkout.http.get("/checkout/review").headers["location"] == "/basket"
    boutique_checkout.add()  # a new basket, but the old review form is posted again
    replay = boutique_checkout.place(token)
    assert replay.status_code == 409
    assert text_of(replay.text, "alert-danger") == [EXPIRED]
    assert len(boutique.orders.list()) == 1


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("token", [None, "f" * 32])
def test_every_post_checks_the_token(
    boutique: DemoShop, boutique_checkout: BoutiqueCheckout, page: str, token: str | None
) -> None:
    boutique_checkout.add()
    boutique_checkout.to(page)
    fields = {
        "details": BOUTIQUE_DETAILS,
        "delivery": {"delivery": "standard"},
        "payment": boutique_card(),
        "review": {"terms": "yes"},
    }[page]
    data = dict(fields) if token is None else {**fields, "_token": token}
    response = boutique_checkout.http.post(f"/checkout/{page}", data=data)
    assert response.status_code == 409
    assert text_of(response.text, "alert-danger") == [EXPIRED]
    assert '<a class="btn" href="/checkout/details">Reload checkout</a>' in response.text
    assert boutique.orders.list() == []


def test_token_rejected_fault_fails_the_details_page(
    boutique: DemoShop, boutique_checkout: BoutiqueCheckout
) -> None:
    boutique_checkout.add()
    token = boutique_checkout.token()
    boutique.faults.enable("checkout-token-rejected")
    response = boutique_checkout.post("details", token, **BOUTIQUE_DETAILS)
    assert response.status_code == 409
    assert text_of(response.text, "alert-danger") == [EXPIRED]


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("4000000000000002", "Your card was declined. Please use a different card."),
        ("4000000000009995", "Your card has insufficient funds."),
        ("5555555555554444", "This card number is not accepted here (not a test card)."),
    ],
)
def test_refused_cards_fail_at_review_and_create_nothing(
    boutique: DemoShop, boutique_checkout: BoutiqueCheckout, card: str, message: str
) -> None:
    boutique_checkout.add()
    token = boutique_checkout.to("review", card=card)
    response = boutique_checkout.place(token)
    assert response.status_code == 402
    assert text_of(response.text, "alert-danger") == [message]
    assert '<form id="review"' in response.text
    assert boutique.orders.list() == []
    # Another card on the payment page, and the same checkout goes through.
    assert boutique_checkout.post("payment", token, **boutique_card(APPROVE)).status_code == 303
    assert boutique_checkout.place(token).status_code == 303


def test_payment_declines_fault_at_review(
    boutique: DemoShop, boutique_checkout: BoutiqueCheckout
) -> None:
    boutique_checkout.add()
    token = boutique_checkout.to("review")
    boutique.faults.enable("payment-declines")
    response = boutique_checkout.place(token)
    assert response.status_code == 402
    assert text_of(response.text, "alert-danger") == [
        "Your card was declined. Please use a different card."
    ]
    assert boutique.orders.list() == []


def test_unreachable_provider_is_502_at_review(
    boutique: DemoShop, boutique_checkout: BoutiqueCheckout
) -> None:
    boutique_checkout.add()
    token = boutique_checkout.to("review")
    boutique._served[0].stop()
    response = boutique_checkout.place(token)
    assert response.status_code == 502
    assert text_of(response.text, "alert-danger") == [
        "Our payment provider is not responding. Please try again in a few minutes."
    ]
    assert boutique.orders.list() == []
