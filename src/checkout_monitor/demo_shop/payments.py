"""The shop's client for the payment sandbox: a charge outcome is data, never an exception."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

from .money import CURRENCY

PAYMENT_TIMEOUT_SECONDS = 5.0
ChargeStatus = Literal["approved", "declined", "unavailable"]

# What the customer reads for each way a charge can fail.
CUSTOMER_MESSAGES: dict[str, str] = {
    "card_declined": "Your card was declined. Please use a different card.",
    "insufficient_funds": "Your card has insufficient funds.",
    "not_a_test_card": "This card number is not accepted here (not a test card).",
    "unavailable": "Our payment provider is not responding. Please try again in a few minutes.",
}


@dataclass(frozen=True)
class Card:
    """Card details exactly as the customer typed them."""

    number: str
    expiry: str
    cvc: str


@dataclass(frozen=True)
class ChargeOutcome:
    """What the provider said: approved with a charge id, declined with a code, or no answer."""

    status: ChargeStatus
    charge_id: str = ""
    decline_code: str = ""

    @property
    def customer_message(self) -> str:
        """The sentence shown on the payment page when the charge did not go through."""
        return CUSTOMER_MESSAGES.get(self.decline_code, CUSTOMER_MESSAGES["unavailable"])


class SandboxClient:
    """Server-to-server calls from the shop to the payment sandbox."""

    def __init__(self, base_url: str, timeout: float = PAYMENT_TIMEOUT_SECONDS) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    def charge(self, amount_cents: int, card: Card) -> ChargeOutcome:
        """Charge a card; connection errors, timeouts and 5xx become 'unavailable'."""
        body = {
            "amount_cents": amount_cents,
            "currency": CURRENCY,
            "card_number": card.number,
            "card_expiry": card.expiry,
            "card_cvc": card.cvc,
        }
        try:
            response = httpx.post(f"{self._base_url}/v1/charges", json=body, timeout=self._timeout)
            data = response.json()
        except (httpx.HTTPError, ValueError):
            return ChargeOutcome("unavailable", decline_code="unavailable")
        if not isinstance(data, dict):
            return ChargeOutcome("unavailable", decline_code="unavailable")
        if response.status_code == 200 and data.get("status") == "approved":
            return ChargeOutcome("approved", charge_id=str(data.get("id", "")))
        code = data.get("decline_code")
        if response.status_code in (400, 402) and code in CUSTOMER_MESSAGES:
            return ChargeOutcome("declined", decline_code=str(code))
        return ChargeOutcome("unavailable", decline_code="unavailable")

    def refund(self, charge_id: str) -> bool:
        """Refund a charge; False when the provider could not be reached or refused."""
        try:
            response = httpx.post(
                f"{self._base_url}/v1/charges/{charge_id}/refund", timeout=self._timeout
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200
