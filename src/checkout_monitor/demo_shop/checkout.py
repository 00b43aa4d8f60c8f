"""Checkout rules shared by both themes: the session token, card checks and placing the order."""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from .addresses import Address
from .cart import Session, clear_cart, summarise
from .faults import FaultSwitches
from .orders import Order, OrderItem, OrderStore
from .payments import Card, CardToken, ChargeOutcome, SandboxClient
from .shipping import ShippingMethod

TOKEN_KEY = "checkout_token"
CHALLENGE_KEY = "challenged_charge"  # a charge waiting for its 3-D Secure challenge
# What the checkout pages remember in the session until the order is placed.
CHECKOUT_CHOICES = ("address", "shipping_method", "payment_method", "hosted_session")
_CARD_DIGITS = re.compile(r"^\d{12,19}$")
_EXPIRY = re.compile(r"^(0[1-9]|1[0-2])/\d{2}$")
_CVC = re.compile(r"^\d{3,4}$")
HTTP_DECLINED = 402
HTTP_PROVIDER_DOWN = 502
# Abandoned checkouts leave their card behind; the oldest are forgotten beyond this many.
MAX_PENDING_CARDS = 256


def issue_token(session: Session) -> str:
    """The session's checkout token, creating one when the checkout is first rendered."""
    token = session.get(TOKEN_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_hex(16)
        session[TOKEN_KEY] = token
    return token


def token_is_valid(session: Session, submitted: str | None, faults: FaultSwitches) -> bool:
    """Whether a posted checkout form carries this session's current token."""
    if faults.is_on("checkout-token-rejected"):
        return False  # as if the shop's session store had lost every token
    expected = session.get(TOKEN_KEY)
    if not isinstance(expected, str) or not expected or not submitted:
        return False
    return secrets.compare_digest(expected, submitted)


def end_checkout(session: Session) -> None:
    """Forget everything about the finished checkout, so its forms cannot be replayed."""
    clear_cart(session)
    for key in (TOKEN_KEY, CHALLENGE_KEY, *CHECKOUT_CHOICES):
        session.pop(key, None)


def validate_card(number: str, expiry: str, cvc: str) -> tuple[Card | None, dict[str, str]]:
    """Shape checks the shop does before bothering the provider; field -> error text."""
    errors: dict[str, str] = {}
    digits = re.sub(r"[\s-]", "", number)
    if not _CARD_DIGITS.match(digits):
        errors["card_number"] = "Enter your card number"
    if not _EXPIRY.match(expiry.strip()):
        errors["card_expiry"] = "Enter the expiry date as MM/YY"
    if not _CVC.match(cvc.strip()):
        errors["card_cvc"] = "Enter the 3 or 4 digit security code"
    if errors:
        return None, errors
    return Card(number=number.strip(), expiry=expiry.strip(), cvc=cvc.strip()), {}


class PendingCards:
    """Cards entered but not yet charged, by checkout token.

    Kept on the server so card numbers never travel in the cookie session (or in traces of it).
    """

    def __init__(self, limit: int = MAX_PENDING_CARDS) -> None:
        self._cards: OrderedDict[str, Card | CardToken] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def put(self, token: str, card: Card | CardToken) -> None:
        """Hold the card for this checkout, replacing any card entered before."""
        with self._lock:
            self._cards.pop(token, None)
            self._cards[token] = card
            while len(self._cards) > self._limit:
                self._cards.popitem(last=False)

    def get(self, token: object) -> Card | CardToken | None:
        """The card held for this checkout, or None."""
        if not isinstance(token, str):
            return None
        with self._lock:
            return self._cards.get(token)

    def forget(self, token: str) -> None:
        """Drop the card once the checkout is over."""
        with self._lock:
            self._cards.pop(token, None)


def card_last_digits(card: Card | CardToken) -> str:
    """The last four digits of the card number, as shown on a review page."""
    if isinstance(card, CardToken):
        return card.last4
    return re.sub(r"\D", "", card.number)[-4:]


@dataclass(frozen=True)
class Buyer:
    """Who placed the order, as far as the request tells: a person or a synthetic monitor."""

    user_agent: str
    synthetic: bool

    @classmethod
    def identify(cls, user_agent: str, monitor_header: str | None) -> Buyer:
        """A monitor is recognised by X-Synthetic-Monitor or a checkout-monitor User-Agent."""
        synthetic = monitor_header is not None or "checkout-monitor" in user_agent.lower()
        return cls(user_agent, synthetic)


@dataclass(frozen=True)
class CheckoutResult:
    """The new order; or the HTTP status and customer-facing error for the payment page; or
    a 3-D Secure challenge (``challenge_url``) the customer must answer first."""

    order: Order | None
    http_status: int = 200
    error: str = ""
    challenge_url: str = ""


@dataclass(frozen=True)
class OrderRequest:
    """What an order needs besides the payment: the session's cart, where it goes, who buys."""

    session: Session
    address: Address
    shipping: ShippingMethod
    sandbox: SandboxClient
    orders: OrderStore
    buyer: Buyer

    @property
    def total_cents(self) -> int:
        """What the customer pays: the cart after discounts, plus delivery."""
        return summarise(self.session).total_cents + self.shipping.price_cents


def place_order(request: OrderRequest, card: Card | CardToken) -> CheckoutResult:
    """Charge the card for the cart total and, only if approved, record the order."""
    return settle(request, request.sandbox.charge(request.total_cents, card))


def finish_challenge(request: OrderRequest) -> CheckoutResult:
    """After the customer answered the 3-D Secure challenge: the charge's final outcome."""
    charge_id = request.session.pop(CHALLENGE_KEY, None)
    if not isinstance(charge_id, str) or not charge_id:
        return CheckoutResult(None, 409, "No payment is waiting for authentication.")
    return settle(request, request.sandbox.confirm(charge_id))


def settle(request: OrderRequest, outcome: ChargeOutcome) -> CheckoutResult:
    """Turn the provider's answer into an order, a challenge to show, or an error."""
    if outcome.status == "requires_action":
        request.session[CHALLENGE_KEY] = outcome.charge_id
        return CheckoutResult(None, challenge_url=outcome.challenge_url)
    if outcome.status != "approved":
        status = HTTP_PROVIDER_DOWN if outcome.status == "unavailable" else HTTP_DECLINED
        return CheckoutResult(None, status, outcome.customer_message)
    return CheckoutResult(record_order(request, outcome.charge_id))


def record_order(request: OrderRequest, charge_id: str) -> Order:
    """Record the paid order for the session's cart and end the checkout."""
    cart = summarise(request.session)
    order = request.orders.create(
        created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        items=tuple(
            OrderItem(line.product.slug, line.product.name, line.quantity, line.product.price_cents)
            for line in cart.lines
        ),
        subtotal_cents=cart.subtotal_cents,
        discount_code=cart.discount_code,
        discount_cents=cart.discount_cents,
        shipping_method=request.shipping.code,
        shipping_cents=request.shipping.price_cents,
        total_cents=request.total_cents,
        email=request.address.email,
        charge_id=charge_id,
        synthetic=request.buyer.synthetic,
        user_agent=request.buyer.user_agent,
    )
    end_checkout(request.session)
    return order
