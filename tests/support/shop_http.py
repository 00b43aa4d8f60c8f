"""Plain-HTTP helpers for driving the demo shop the way a browser without JavaScript would."""

from __future__ import annotations

import base64
import re
import threading
import zlib
from dataclasses import dataclass

import httpx

from checkout_monitor.demo_shop import DemoShop

APPROVE = "4242 4242 4242 4242"
GOOD_ADDRESS = {
    "email": "ana@example.com",
    "full_name": "Ana Lima",
    "address1": "Hauptstrasse 5",
    "city": "Berlin",
    "postcode": "10115",
    "country": "DE",
}


def admin(shop: DemoShop) -> dict[str, str]:
    """Headers for the operator API."""
    return {"Authorization": f"Bearer {shop.admin_token}"}


def hidden_value(html: str, name: str) -> str:
    """The value of a hidden form field."""
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no field {name}"
    return match.group(1)


def text_of(html: str, css_class: str) -> list[str]:
    """Text of elements whose class attribute includes `css_class` (flat elements only)."""
    pattern = rf'class="[^"]*\b{re.escape(css_class)}\b[^"]*"[^>]*>([^<]*)<'
    return [m.strip() for m in re.findall(pattern, html)]


@dataclass
class ClassicCheckout:
    """Drives the classic theme's checkout over plain HTTP, as a browser without JS would."""

    http: httpx.Client

    def add(self, slug: str = "speckled-mug", quantity: int = 1) -> httpx.Response:
        return self.http.post("/cart/add", data={"slug": slug, "quantity": str(quantity)})

    def discount(self, code: str) -> httpx.Response:
        return self.http.post("/cart/discount", data={"code": code}, follow_redirects=True)

    def token(self) -> str:
        return hidden_value(self.http.get("/checkout").text, "checkout_token")

    def to_payment(self, shipping: str = "standard") -> str:
        token = self.token()
        response = self.http.post(
            "/checkout/address", data={"checkout_token": token, **GOOD_ADDRESS}
        )
        assert response.status_code == 303, response.text
        response = self.http.post(
            "/checkout/shipping", data={"checkout_token": token, "shipping_method": shipping}
        )
        assert response.status_code == 303, response.text
        return token

    def pay(self, token: str, card: str = APPROVE, **headers: str) -> httpx.Response:
        data = {
            "checkout_token": token,
            "card_number": card,
            "card_expiry": "12/34",
            "card_cvc": "123",
            "card_name": "Ana Lima",
        }
        return self.http.post("/checkout/payment", data=data, headers=headers)


BOUTIQUE_DETAILS = {
    "contact[email]": "ana@example.com",
    "shipping[name]": "Ana Lima",
    "shipping[street]": "Rue de Rivoli 1",
    "shipping[town]": "Paris",
    "shipping[zip]": "75001",
    "shipping[country]": "FR",
}


def boutique_card(number: str = APPROVE) -> dict[str, str]:
    """The boutique payment form, filled in."""
    return {
        "payment[number]": number,
        "payment[exp]": "12/34",
        "payment[cvv]": "123",
        "payment[holder]": "Ana Lima",
    }


def session_cookie_text(http: httpx.Client) -> str:
    """The readable payload of Flask's signed (not encrypted) cookie session."""
    value = http.cookies.get("shop_session", "")
    compressed = value.startswith(".")
    payload = base64.urlsafe_b64decode(value.lstrip(".").split(".")[0] + "==")
    return (zlib.decompress(payload) if compressed else payload).decode()


@dataclass
class BoutiqueCheckout:
    """Drives the boutique theme's four checkout pages over plain HTTP."""

    http: httpx.Client

    def add(self, slug: str = "speckled-mug", quantity: int = 1) -> httpx.Response:
        return self.http.post("/basket/add", data={"slug": slug, "quantity": str(quantity)})

    def token(self) -> str:
        return hidden_value(self.http.get("/checkout/details").text, "_token")

    def post(self, page: str, token: str, **fields: str) -> httpx.Response:
        return self.http.post(f"/checkout/{page}", data={"_token": token, **fields})

    def to(self, page: str, delivery: str = "standard", card: str = APPROVE) -> str:
        """Complete every page before `page` (details, delivery, payment, review); the token."""
        token = self.token()
        forms = {
            "details": BOUTIQUE_DETAILS,
            "delivery": {"delivery": delivery},
            "payment": boutique_card(card),
        }
        for done, fields in forms.items():
            if done == page:
                break
            response = self.post(done, token, **fields)
            assert response.status_code == 303, response.text
        return token

    def place(self, token: str, **headers: str) -> httpx.Response:
        data = {"_token": token, "terms": "yes"}
        return self.http.post("/checkout/review", data=data, headers=headers)


def held_product_pages(shop: DemoShop) -> threading.Semaphore:
    """Released each time the shop starts holding a product page back (the
    ``slow-product-page`` fault): a test kills something while a run is mid-page."""
    held = threading.Semaphore(0)
    real_param = shop.faults.param

    def param(name: str, key: str) -> float:
        if name == "slow-product-page":
            held.release()
        return real_param(name, key)

    shop.faults.param = param  # type: ignore[method-assign]
    return held
