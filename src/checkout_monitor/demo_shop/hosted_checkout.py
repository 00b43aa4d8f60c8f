"""The shop's side of the hosted payment page: open a session with the provider, send the
shopper there, and on their way back verify the signed result and confirm it server to
server before recording the order, once."""

from __future__ import annotations

from dataclasses import dataclass

from .bounded import BoundedMap
from .checkout import OrderRequest, record_order
from .payments import CUSTOMER_MESSAGES
from .signatures import result_is_signed

SESSION_KEY = "hosted_session"
MERCHANT = "Demo shop"
BAD_SIGNATURE = (
    "We could not verify this payment with Demo Pay (the signature does not match). "
    "No order was placed and nothing was charged by this page."
)
NOT_YOURS = "This payment does not belong to your checkout. Please return to your cart."
NOT_PAID = "Demo Pay has no record of this payment being completed. No order was placed."
WRONG_AMOUNT = "The amount paid does not match your order total. No order was placed."


@dataclass(frozen=True)
class HostedReturn:
    """Where the returning shopper goes: an order's confirmation, or an error page."""

    order_number: str = ""
    http_status: int = 200
    error: str = ""


def open_session(request: OrderRequest, return_url: str) -> tuple[str, str]:
    """(the provider's page to send the shopper to, "") or ("", the error to show)."""
    created = request.sandbox.create_session(request.total_cents, return_url, MERCHANT)
    if created is None or not created.url:
        return "", CUSTOMER_MESSAGES["unavailable"]
    request.session[SESSION_KEY] = created.session_id
    return created.url, ""


@dataclass(frozen=True)
class ReturnParams:
    """The query the provider sends the shopper back with."""

    session_id: str
    result: str
    signature: str


def complete_return(
    params: ReturnParams,
    secret: bytes,
    finished: BoundedMap[str],
    order_request: OrderRequest | None,
) -> HostedReturn:
    """Verify and record a returning payment; a replayed return finds the order it made.

    ``order_request`` is None when the session has no checkout to pay for (no cart or no
    address): only a replay of a finished payment can then succeed.
    """
    if not result_is_signed(secret, params.session_id, params.result, params.signature):
        return HostedReturn(http_status=400, error=BAD_SIGNATURE)
    with finished.lock:  # two copies of one return URL at once still make one order
        earlier = finished.get(params.session_id)
        if earlier is not None:
            return HostedReturn(order_number=earlier)
        if order_request is None or order_request.session.get(SESSION_KEY) != params.session_id:
            return HostedReturn(http_status=409, error=NOT_YOURS)
        if params.result != "approved":
            return HostedReturn(http_status=402, error=NOT_PAID)
        payment = order_request.sandbox.read_session(params.session_id)
        if payment is None:
            return HostedReturn(http_status=502, error=CUSTOMER_MESSAGES["unavailable"])
        if payment.get("status") != "paid" or not payment.get("charge_id"):
            return HostedReturn(http_status=402, error=NOT_PAID)
        if payment.get("amount_cents") != order_request.total_cents:
            return HostedReturn(http_status=409, error=WRONG_AMOUNT)
        order = record_order(order_request, str(payment["charge_id"]))
        finished.put(params.session_id, order.number)
        return HostedReturn(order_number=order.number)
