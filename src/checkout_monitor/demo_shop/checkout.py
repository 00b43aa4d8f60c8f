"""Checkout rules shared by both themes: the session token, card checks and placing the order."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from .addresses import Address
from .cart import Session, clear_cart, summarise
from .faults import FaultSwitches
from .orders import Order, OrderItem, OrderStore
from .payments import Card, SandboxClient
from .shipping import ShippingMethod

TOKEN_KEY = "checkout_token"
_CARD_DIGITS = re.compile(r"^\d{12,19}$")
_EXPIRY = re.compile(r"^(0[1-9]|1[0-2])/\d{2}$")
_CVC = re.compile(r"^\d{3,4}$")
HTTP_DECLINED = 402
HTTP_PROVIDER_DOWN = 502


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
    for key in (TOKEN_KEY, "address", "shipping_method"):
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
    """Either the new order, or the HTTP status and customer-facing error for the payment page."""

    order: Order | None
    http_status: int = 200
    error: str = ""


def place_order(
    *,
    session: Session,
    address: Address,
    shipping: ShippingMethod,
    card: Card,
    sandbox: SandboxClient,
    orders: OrderStore,
    buyer: Buyer,
) -> CheckoutResult:
    """Charge the card for the cart total and, only if approved, record the order."""
    cart = summarise(session)
    total = cart.total_cents + shipping.price_cents
    outcome = sandbox.charge(total, card)
    if outcome.status != "approved":
        status = HTTP_PROVIDER_DOWN if outcome.status == "unavailable" else HTTP_DECLINED
        return CheckoutResult(None, status, outcome.customer_message)
    order = orders.create(
        created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        items=tuple(
            OrderItem(line.product.slug, line.product.name, line.quantity, line.product.price_cents)
            for line in cart.lines
        ),
        subtotal_cents=cart.subtotal_cents,
        discount_code=cart.discount_code,
        discount_cents=cart.discount_cents,
        shipping_method=shipping.code,
        shipping_cents=shipping.price_cents,
        total_cents=total,
        email=address.email,
        charge_id=outcome.charge_id,
        synthetic=buyer.synthetic,
        user_agent=buyer.user_agent,
    )
    end_checkout(session)
    return CheckoutResult(order)
