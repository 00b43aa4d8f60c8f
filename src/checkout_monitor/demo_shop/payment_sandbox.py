"""The payment provider's sandbox: a separate service the shop charges cards through.

Test cards behave like those of real providers' test modes; any other number is refused.
"""

from __future__ import annotations

import re
import secrets
import threading
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from .faults import FaultSwitches

TEST_CARDS: dict[str, str] = {
    "4242424242424242": "approved",
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
}
DECLINE_MESSAGES: dict[str, str] = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
}
_EXPIRY = re.compile(r"^(0[1-9]|1[0-2])/?\d{2}$")
_CVC = re.compile(r"^\d{3,4}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def normalise_card_number(raw: str) -> str:
    """Strip the spaces and dashes people type between digit groups."""
    return re.sub(r"[\s-]", "", raw)


def _bad_request(message: str) -> ResponseReturnValue:
    return jsonify(status="rejected", decline_code="invalid_request", message=message), 400


def _charge_body_error(body: Any) -> str | None:
    """Why a charge request body is malformed, or None when it is fine."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    amount = body.get("amount_cents")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        return "amount_cents must be a positive integer"
    for field in ("currency", "card_number", "card_expiry", "card_cvc"):
        if not isinstance(body.get(field), str):
            return f"{field} must be a string"
    if not _CURRENCY.match(body["currency"]):
        return "currency must be a three-letter ISO code"
    if not _EXPIRY.match(body["card_expiry"].strip()):
        return "card_expiry must be MM/YY"
    if not _CVC.match(body["card_cvc"].strip()):
        return "card_cvc must be 3 or 4 digits"
    return None


def create_sandbox_app(faults: FaultSwitches) -> Flask:
    """Build the sandbox app; its charges live as long as the app."""
    app = Flask(__name__)
    charges: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()

    @app.before_request
    def provider_outage() -> ResponseReturnValue | None:
        if faults.is_on("payment-provider-down"):
            return jsonify(status="unavailable"), 503
        return None

    @app.get("/health")
    def health() -> ResponseReturnValue:
        return jsonify(status="ok")

    @app.post("/v1/charges")
    def create_charge() -> ResponseReturnValue:
        body = request.get_json(silent=True)
        error = _charge_body_error(body)
        if error is not None or not isinstance(body, dict):
            return _bad_request(error or "request body must be a JSON object")
        number = normalise_card_number(body["card_number"])
        outcome = "card_declined" if faults.is_on("payment-declines") else TEST_CARDS.get(number)
        if outcome is None:
            message = "This card number is not a sandbox test card."
            return jsonify(status="rejected", decline_code="not_a_test_card", message=message), 400
        if outcome != "approved":
            message = DECLINE_MESSAGES[outcome]
            return jsonify(status="declined", decline_code=outcome, message=message), 402
        charge = {
            "id": f"ch_{secrets.token_hex(12)}",
            "status": "approved",
            "amount_cents": body["amount_cents"],
            "currency": body["currency"],
            "card_last4": number[-4:],
        }
        with lock:
            charges[charge["id"]] = charge
        return jsonify(charge)

    def charge_response(charge_id: str, **changes: str) -> ResponseReturnValue:
        """The charge as JSON after applying `changes` to it, or a 404 when there is none."""
        with lock:
            charge = charges.get(charge_id)
            if charge is None:
                return jsonify(status="not_found", message="no such charge"), 404
            charge.update(changes)
            return jsonify(charge)

    @app.get("/v1/charges/<charge_id>")
    def get_charge(charge_id: str) -> ResponseReturnValue:
        return charge_response(charge_id)

    @app.post("/v1/charges/<charge_id>/refund")
    def refund_charge(charge_id: str) -> ResponseReturnValue:
        return charge_response(charge_id, status="refunded")

    return app
