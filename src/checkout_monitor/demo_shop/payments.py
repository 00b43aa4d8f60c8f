"""The shop's client for the payment sandbox: a charge outcome is data, never an exception."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx

from .money import CURRENCY

PAYMENT_TIMEOUT_SECONDS = 5.0
ChargeStatus = Literal["approved", "declined", "unavailable", "requires_action"]

# What the customer reads for each way a charge can fail.
CUSTOMER_MESSAGES: dict[str, str] = {
    "card_declined": "Your card was declined. Please use a different card.",
    "insufficient_funds": "Your card has insufficient funds.",
    "not_a_test_card": "This card number is not accepted here (not a test card).",
    "authentication_failed": "Your card was declined: authentication failed.",
    "unavailable": "Our payment provider is not responding. Please try again in a few minutes.",
}


@dataclass(frozen=True)
class Card:
    """Card details exactly as the customer typed them."""

    number: str
    expiry: str
    cvc: str


@dataclass(frozen=True)
class CardToken:
    """A card the provider's hosted fields tokenized: the shop never saw its number."""

    token: str
    last4: str


@dataclass(frozen=True)
class ChargeOutcome:
    """What the provider said: approved with a charge id, declined with a code, waiting for
    a 3-D Secure challenge (at `challenge_url`), or no answer."""

    status: ChargeStatus
    charge_id: str = ""
    decline_code: str = ""
    challenge_url: str = ""
    amount_cents: int = 0

    @property
    def customer_message(self) -> str:
        """The sentence shown on the payment page when the charge did not go through."""
        return CUSTOMER_MESSAGES.get(self.decline_code, CUSTOMER_MESSAGES["unavailable"])


@dataclass(frozen=True)
class PaymentSession:
    """A hosted payment page session: its id and where to send the shopper."""

    session_id: str
    url: str


class SandboxClient:
    """Server-to-server calls from the shop to the payment sandbox, over one pooled client:
    a client per call built a TLS context each time, most of the shop's own CPU in a run."""

    def __init__(self, base_url: str, timeout: float = PAYMENT_TIMEOUT_SECONDS) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        """Close the pooled connections (the shop is stopping)."""
        self._http.close()

    def charge(self, amount_cents: int, card: Card | CardToken) -> ChargeOutcome:
        """Charge a card (or a hosted fields token); connection errors, timeouts and 5xx
        become 'unavailable'."""
        body: dict[str, object] = {"amount_cents": amount_cents, "currency": CURRENCY}
        if isinstance(card, CardToken):
            body["token"] = card.token
        else:
            body.update(card_number=card.number, card_expiry=card.expiry, card_cvc=card.cvc)
        return self._outcome("post", "/v1/charges", body)

    def confirm(self, charge_id: str) -> ChargeOutcome:
        """Finish a charge after its 3-D Secure challenge was answered."""
        return self._outcome("post", f"/v1/charges/{charge_id}/confirm", None)

    def _outcome(self, method: str, path: str, body: dict[str, object] | None) -> ChargeOutcome:
        data, status = self._call(method, path, body)
        if data is None:
            return ChargeOutcome("unavailable", decline_code="unavailable")
        amount = data.get("amount_cents")
        amount_cents = amount if isinstance(amount, int) else 0
        charge_id = str(data.get("id", ""))
        if status == 200 and data.get("status") == "approved":
            return ChargeOutcome("approved", charge_id=charge_id, amount_cents=amount_cents)
        if status in (200, 409) and data.get("status") == "requires_action":
            challenge = str(data.get("challenge_url", ""))
            return ChargeOutcome("requires_action", charge_id=charge_id, challenge_url=challenge)
        code = data.get("decline_code")
        if status in (400, 402) and code in CUSTOMER_MESSAGES:
            return ChargeOutcome("declined", decline_code=str(code))
        return ChargeOutcome("unavailable", decline_code="unavailable")

    def _call(
        self, method: str, path: str, body: dict[str, object] | None = None
    ) -> tuple[dict[str, Any] | None, int]:
        """The JSON object the sandbox answered and its status; None when there was none."""
        try:
            response = self._http.request(method, f"{self._base_url}{path}", json=body)
            data = response.json()
        except (httpx.HTTPError, ValueError):
            return None, 0
        return (data if isinstance(data, dict) else None), response.status_code

    def token_last4(self, token: str) -> str | None:
        """The last four digits behind a hosted fields token; None for an unknown token."""
        data, status = self._call("get", f"/v1/tokens/{token}")
        if data is None or status != 200:
            return None
        return str(data.get("last4", ""))

    def create_session(
        self, amount_cents: int, return_url: str, merchant: str
    ) -> PaymentSession | None:
        """Open a hosted payment page session; None when the provider does not answer."""
        body: dict[str, object] = {
            "amount_cents": amount_cents,
            "currency": CURRENCY,
            "return_url": return_url,
            "merchant": merchant,
        }
        data, status = self._call("post", "/v1/payment_sessions", body)
        if data is None or status != 200:
            return None
        return PaymentSession(str(data.get("id", "")), str(data.get("url", "")))

    def read_session(self, session_id: str) -> dict[str, Any] | None:
        """The payment session as the provider knows it, or None."""
        data, status = self._call("get", f"/v1/payment_sessions/{session_id}")
        return data if status == 200 else None

    def refund(self, charge_id: str) -> bool:
        """Refund a charge; False when the provider could not be reached or refused."""
        try:
            response = self._http.post(f"{self._base_url}/v1/charges/{charge_id}/refund")
        except httpx.HTTPError:
            return False
        return response.status_code == 200
