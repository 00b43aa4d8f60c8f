"""Cart and discount codes, over HTTP, in both themes."""

from __future__ import annotations

import httpx
import pytest

from checkout_monitor.demo_shop.discounts import apply_code
from support.shop_http import ClassicCheckout, text_of


def test_ajax_add_returns_count_and_html_add_redirects(client: httpx.Client) -> None:
    response = client.post(
        "/cart/add",
        data={"slug": "speckled-mug", "quantity": "2"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True, "cart_count": 2, "message": "Added to your cart"}
    response = client.post("/cart/add", data={"slug": "linen-apron", "quantity": "1"})
    assert (response.status_code, response.headers["location"]) == (303, "/cart")
    html = client.get("/cart").text
    assert text_of(html, "line-name") == ["Speckled Stoneware Mug", "Linen Work Apron"]
    assert text_of(html, "cart-subtotal") == ["€100.00"]
    assert text_of(html, "cart-count") == ["3"]
    assert 'id="checkout-button" class="button" href="/checkout"' in html


def test_update_and_remove_lines(client: httpx.Client, checkout: ClassicCheckout) -> None:
    checkout.add("speckled-mug")
    checkout.add("oak-serving-board")
    client.post("/cart/update", data={"slug": "speckled-mug", "quantity": "3"})
    assert text_of(client.get("/cart").text, "cart-subtotal") == ["€151.00"]
    client.post("/cart/remove", data={"slug": "oak-serving-board"})
    html = client.get("/cart").text
    assert text_of(html, "cart-subtotal") == ["€72.00"]
    assert html.count('class="cart-line"') == 1
    client.post("/cart/update", data={"slug": "speckled-mug", "quantity": "0"})
    assert text_of(client.get("/cart").text, "cart-empty") == ["Your cart is empty"]


def test_bad_quantity_is_refused(client: httpx.Client) -> None:
    response = client.post(
        "/cart/add",
        data={"slug": "speckled-mug", "quantity": "0"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert client.post("/cart/add", data={"slug": "nope", "quantity": "1"}).status_code == 404


@pytest.mark.parametrize(
    ("code", "extra", "message_class", "message", "discount", "total"),
    [
        (
            "SAVE10",
            [],
            "discount-applied",
            "Code SAVE10 applied: 10% off your order",
            "-€2.40",
            "€21.60",
        ),
        (
            "save10",
            [],
            "discount-applied",
            "Code SAVE10 applied: 10% off your order",
            "-€2.40",
            "€21.60",
        ),
        (
            "TENOFF",
            [],
            "discount-applied",
            "Code TENOFF applied: €10.00 off your order",
            "-€10.00",
            "€14.00",
        ),
        (
            "BIGORDER15",
            [],
            "discount-error",
            "BIGORDER15 needs an order of at least €100.00",
            None,
            "€24.00",
        ),
        (
            "BIGORDER15",
            ["oak-serving-board"],
            "discount-applied",
            "Code BIGORDER15 applied: 15% off your order",
            "-€15.45",
            "€87.55",
        ),
        ("SUMMER2023", [], "discount-error", "This code expired on 31 August 2023", None, "€24.00"),
        ("FREESTUFF", [], "discount-error", "This code is not valid", None, "€24.00"),
    ],
)
def test_discount_codes(
    checkout: ClassicCheckout,
    code: str,
    extra: list[str],
    message_class: str,
    message: str,
    discount: str | None,
    total: str,
) -> None:
    checkout.add("speckled-mug")
    for slug in extra:
        checkout.add(slug)
    html = checkout.discount(code).text
    assert text_of(html, message_class) == [message]
    assert text_of(html, "cart-total") == [total]
    if discount is None:
        assert "cart-discount" not in html
    else:
        assert discount in html.split('class="row cart-discount"')[1].split("</div>")[0]


def test_tenoff_never_goes_below_zero() -> None:
    assert apply_code("TENOFF", 450).discount_cents == 450
    assert apply_code("SAVE10", 5).discount_cents == 1  # half up: 0.5 cent -> 1 cent
    assert apply_code("save10", 2400).code == "SAVE10"


def test_discount_is_dropped_when_the_cart_no_longer_qualifies(
    client: httpx.Client, checkout: ClassicCheckout
) -> None:
    checkout.add("oak-serving-board", 2)
    checkout.discount("BIGORDER15")
    client.post("/cart/update", data={"slug": "oak-serving-board", "quantity": "1"})
    html = client.get("/cart").text
    assert text_of(html, "discount-error") == ["BIGORDER15 needs an order of at least €100.00"]
    assert text_of(html, "cart-total") == ["€79.00"]


def test_boutique_basket_and_voucher(boutique_client: httpx.Client) -> None:
    response = boutique_client.post(
        "/basket/add", data={"slug": "speckled-mug", "quantity": "2"}, follow_redirects=True
    )
    assert str(response.url).endswith("/basket")
    html = response.text
    assert text_of(html, "flash-success") == ["Item added to your basket"]
    assert html.count('class="basket-item"') == 1
    assert text_of(html, "basket-total") == ["€48.00"]
    assert '<a class="proceed btn" href="/checkout/details">Proceed to checkout</a>' in html
    html = boutique_client.post(
        "/basket/voucher", data={"voucher": "tenoff"}, follow_redirects=True
    ).text
    assert text_of(html, "voucher-ok") == ["Code TENOFF applied: €10.00 off your order"]
    assert text_of(html, "basket-total") == ["€38.00"]
    html = boutique_client.post(
        "/basket/voucher", data={"voucher": "SUMMER2023"}, follow_redirects=True
    ).text
    assert text_of(html, "voucher-bad") == ["This code expired on 31 August 2023"]
    assert text_of(html, "basket-total") == ["€38.00"]  # the earlier code still applies
