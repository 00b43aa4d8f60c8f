"""The sandbox's hosted payment API over plain HTTP: 3-D Secure charges, payment sessions,
and the bounded memory behind them."""

from __future__ import annotations

import httpx
import pytest

from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.demo_shop.bounded import BoundedMap

CHALLENGE_CARD = "4000002500003155"


def charge(shop: DemoShop, number: str) -> httpx.Response:
    body = {
        "amount_cents": 2890,
        "currency": "EUR",
        "card_number": number,
        "card_expiry": "12/34",
        "card_cvc": "123",
    }
    return httpx.post(f"{shop.sandbox_url}/v1/charges", json=body)


@pytest.mark.parametrize(
    ("answer", "status", "final"), [("complete", 200, "approved"), ("fail", 402, "declined")]
)
def test_challenged_charge_waits_for_the_bank(
    shop: DemoShop, answer: str, status: int, final: str
) -> None:
    pending = charge(shop, CHALLENGE_CARD).json()
    assert pending["status"] == "requires_action"
    assert pending["challenge_url"] == f"{shop.sandbox_public_url}/v1/3ds/{pending['id']}"
    confirm = f"{shop.sandbox_url}/v1/charges/{pending['id']}/confirm"
    assert httpx.post(confirm).status_code == 409  # not answered yet
    acs = f"{shop.sandbox_url}/v1/3ds/{pending['id']}/acs"
    answered = httpx.post(acs, data={"answer": answer, "parent": shop.shop_url})
    assert "postMessage" in answered.text
    result = httpx.post(confirm)
    assert result.status_code == status and result.json()["status"] == final


def test_stuck_challenge_never_records_an_answer(shop: DemoShop) -> None:
    shop.faults.enable("three-ds-stuck")
    pending = charge(shop, CHALLENGE_CARD).json()
    acs = f"{shop.sandbox_url}/v1/3ds/{pending['id']}/acs"
    answered = httpx.post(acs, data={"answer": "complete", "parent": shop.shop_url})
    assert "Authenticating..." in answered.text and "postMessage" not in answered.text
    assert httpx.post(f"{shop.sandbox_url}/v1/charges/{pending['id']}/confirm").status_code == 409


def test_challenge_frames_need_a_parent_origin(shop: DemoShop) -> None:
    pending = charge(shop, CHALLENGE_CARD).json()
    frame = f"{shop.sandbox_url}/v1/3ds/{pending['id']}"
    assert httpx.get(frame).status_code == 404
    assert httpx.get(frame, params={"parent": "javascript:alert(1)"}).status_code == 404
    page = httpx.get(frame, params={"parent": shop.shop_url})
    assert 'id="acs-frame"' in page.text


@pytest.mark.parametrize(
    "override",
    [{"amount_cents": 0}, {"currency": "eur"}, {"return_url": "ftp://x"}, {"merchant": 5}],
)
def test_payment_session_bodies_are_checked(shop: DemoShop, override: dict[str, object]) -> None:
    body: dict[str, object] = {
        "amount_cents": 100,
        "currency": "EUR",
        "return_url": f"{shop.shop_url}/back",
    }
    body.update(override)
    response = httpx.post(f"{shop.sandbox_url}/v1/payment_sessions", json=body)
    assert response.status_code == 400


def test_unknown_hosted_page_is_404(shop: DemoShop) -> None:
    assert httpx.get(f"{shop.sandbox_url}/pay/ps_nope").status_code == 404


def test_bounded_map_forgets_the_oldest() -> None:
    remembered: BoundedMap[int] = BoundedMap(limit=3)
    for number in range(5):
        remembered.put(str(number), number)
    assert len(remembered) == 3
    assert remembered.get("0") is None and remembered.get("4") == 4
    assert remembered.get(4) is None  # a key that is not a string finds nothing
