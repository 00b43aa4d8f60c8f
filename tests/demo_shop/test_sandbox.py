"""The payment sandbox's own HTTP contract."""

from __future__ import annotations

import httpx
import pytest

from checkout_monitor.demo_shop import DemoShop


def _charge(shop: DemoShop, **overrides: object) -> httpx.Response:
    body: dict[str, object] = {
        "amount_cents": 2890,
        "currency": "EUR",
        "card_number": "4242 4242 4242 4242",
        "card_expiry": "12/34",
        "card_cvc": "123",
    }
    body.update(overrides)
    return httpx.post(f"{shop.sandbox_url}/v1/charges", json=body)


def test_health(shop: DemoShop) -> None:
    assert httpx.get(f"{shop.sandbox_url}/health").json() == {"status": "ok"}


def test_approved_charge_can_be_read_and_refunded(shop: DemoShop) -> None:
    response = _charge(shop)
    assert response.status_code == 200
    charge = response.json()
    assert charge["status"] == "approved" and charge["id"].startswith("ch_")
    read = httpx.get(f"{shop.sandbox_url}/v1/charges/{charge['id']}").json()
    assert read["amount_cents"] == 2890
    refund = httpx.post(f"{shop.sandbox_url}/v1/charges/{charge['id']}/refund")
    assert refund.json()["status"] == "refunded"
    assert httpx.get(f"{shop.sandbox_url}/v1/charges/ch_nope").status_code == 404


@pytest.mark.parametrize(
    ("card", "status", "code"),
    [
        ("4000000000000002", 402, "card_declined"),
        ("4000-0000-0000-9995", 402, "insufficient_funds"),
        ("4111111111111111", 400, "not_a_test_card"),
    ],
)
def test_refusals(shop: DemoShop, card: str, status: int, code: str) -> None:
    response = _charge(shop, card_number=card)
    assert response.status_code == status
    assert response.json()["decline_code"] == code


@pytest.mark.parametrize(
    "override",
    [{"amount_cents": 0}, {"amount_cents": "12"}, {"currency": 3}, {"card_expiry": "13/34"}],
)
def test_bad_bodies_are_400(shop: DemoShop, override: dict[str, object]) -> None:
    assert _charge(shop, **override).status_code == 400
    assert httpx.post(f"{shop.sandbox_url}/v1/charges", content=b"nope").status_code == 400
