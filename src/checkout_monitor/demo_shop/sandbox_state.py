"""What the payment sandbox remembers (charges, card tokens, hosted payment sessions) and the
rules every way of paying shares: which test card does what, and 3-D Secure.

Each store is bounded: abandoned checkouts cannot grow the sandbox without limit.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from .bounded import BoundedMap
from .faults import FaultSwitches

TEST_CARDS: dict[str, str] = {
    "4242424242424242": "approved",
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
}
# Cards the issuer always challenges with 3-D Secure; approved once the challenge passes.
CHALLENGE_CARDS: frozenset[str] = frozenset({"4000002500003155"})
DECLINE_MESSAGES: dict[str, str] = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "authentication_failed": "Your card was declined: authentication failed.",
}
NOT_A_TEST_CARD = "This card number is not accepted here (not a sandbox test card)."
EXPIRY = re.compile(r"^(0[1-9]|1[0-2])/?\d{2}$")
CVC = re.compile(r"^\d{3,4}$")
CARD_DIGITS = re.compile(r"^\d{12,19}$")


def normalise_card_number(raw: str) -> str:
    """Strip the spaces and dashes people type between digit groups."""
    return re.sub(r"[\s-]", "", raw)


def is_sandbox_card(number: str) -> bool:
    """Whether the sandbox knows this card (approve, decline or challenge)."""
    digits = normalise_card_number(number)
    return digits in TEST_CARDS or digits in CHALLENGE_CARDS


@dataclass(frozen=True)
class SandboxCard:
    """A card as the sandbox holds it behind a token."""

    number: str
    expiry: str
    cvc: str

    @property
    def last4(self) -> str:
        return normalise_card_number(self.number)[-4:]


def card_problem(number: str, expiry: str, cvc: str) -> tuple[str, str] | None:
    """(field, message) for the first thing wrong with typed card details, else None."""
    digits = normalise_card_number(number)
    if not CARD_DIGITS.match(digits):
        return "number", "Your card number is incomplete."
    if not is_sandbox_card(digits):
        return "number", NOT_A_TEST_CARD
    if not EXPIRY.match(expiry.strip()):
        return "expiry", "Your card's expiry date is invalid (MM/YY)."
    if not CVC.match(cvc.strip()):
        return "cvc", "Your card's security code is invalid."
    return None


@dataclass
class SandboxState:
    """Everything the sandbox app's routes share for the lifetime of one DemoShop."""

    faults: FaultSwitches
    public_url: str  # where browsers reach the sandbox (a different site from the shop)
    secret: bytes  # signs hosted payment page results for the shop
    charges: BoundedMap[dict[str, Any]] = field(default_factory=BoundedMap)
    tokens: BoundedMap[SandboxCard] = field(default_factory=BoundedMap)
    sessions: BoundedMap[dict[str, Any]] = field(default_factory=BoundedMap)

    def charge(self, card_number: str, amount_cents: int, currency: str) -> dict[str, Any]:
        """Charge a card: the charge record (approved, or waiting for 3-D Secure), or a
        refusal {"status": "declined"|"rejected", "decline_code", "message"}."""
        number = normalise_card_number(card_number)
        if self.faults.is_on("payment-declines"):
            outcome: str | None = "card_declined"
        elif number in CHALLENGE_CARDS:
            outcome = "requires_action"
        else:
            outcome = TEST_CARDS.get(number)
        if outcome is None:
            return {
                "status": "rejected",
                "decline_code": "not_a_test_card",
                "message": NOT_A_TEST_CARD,
            }
        if outcome in DECLINE_MESSAGES:
            return {
                "status": "declined",
                "decline_code": outcome,
                "message": DECLINE_MESSAGES[outcome],
            }
        charge: dict[str, Any] = {
            "id": f"ch_{secrets.token_hex(12)}",
            "status": outcome,
            "amount_cents": amount_cents,
            "currency": currency,
            "card_last4": number[-4:],
        }
        if outcome == "requires_action":
            charge["three_d_secure"] = "pending"
            charge["challenge_url"] = f"{self.public_url}/v1/3ds/{charge['id']}"
        self.charges.put(charge["id"], charge)
        return dict(charge)

    def authenticate(self, charge_id: str, passed: bool) -> bool:
        """Record the cardholder's answer to a challenge; False when there is none pending."""
        with self.charges.lock:
            charge = self.charges.get(charge_id)
            if charge is None or charge.get("three_d_secure") != "pending":
                return False
            charge["three_d_secure"] = "authenticated" if passed else "failed"
            return True

    def confirm(self, charge_id: str) -> dict[str, Any] | None:
        """Finish a challenged charge: approved once authenticated, declined once failed,
        unchanged while the challenge is open. None when there is no such charge."""
        with self.charges.lock:
            charge = self.charges.get(charge_id)
            if charge is None:
                return None
            answer = charge.get("three_d_secure")
            if charge["status"] == "requires_action" and answer == "authenticated":
                charge["status"] = "approved"
            elif charge["status"] == "requires_action" and answer == "failed":
                charge["status"] = "declined"
                charge["decline_code"] = "authentication_failed"
                charge["message"] = DECLINE_MESSAGES["authentication_failed"]
            return dict(charge)


_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


def web_origin(text: str | None) -> str | None:
    """`text` when it is a plain http(s) origin (where to post messages back), else None."""
    return text if text and _ORIGIN.match(text) else None
