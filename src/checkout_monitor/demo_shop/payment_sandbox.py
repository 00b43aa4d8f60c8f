"""The payment provider's sandbox: a separate service the shop charges cards through.

Test cards behave like those of real providers' test modes; any other number is refused.
Besides its server-to-server API it serves what a provider serves browsers: hosted card
fields (a script and iframes), a hosted payment page, and 3-D Secure challenges.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from .faults import FaultSwitches
from .hosted_fields import build_hosted_fields
from .hosted_payment_page import build_hosted_payment_page
from .sandbox_state import (
    CHALLENGE_CARDS,
    CVC,
    DECLINE_MESSAGES,
    EXPIRY,
    TEST_CARDS,
    SandboxState,
    normalise_card_number,
)
from .three_d_secure import build_three_d_secure

__all__ = [
    "CHALLENGE_CARDS",
    "DECLINE_MESSAGES",
    "TEST_CARDS",
    "create_sandbox_app",
    "normalise_card_number",
]
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _bad_request(message: str) -> ResponseReturnValue:
    return jsonify(status="rejected", decline_code="invalid_request", message=message), 400


def _amount_error(body: dict[str, Any]) -> str | None:
    amount = body.get("amount_cents")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        return "amount_cents must be a positive integer"
    currency = body.get("currency")
    if not isinstance(currency, str):
        return "currency must be a string"
    if not _CURRENCY.match(currency):
        return "currency must be a three-letter ISO code"
    return None


def _charge_body_error(body: Any) -> str | None:
    """Why a charge request body is malformed, or None when it is fine."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    problem = _amount_error(body)
    if problem is not None:
        return problem
    if "token" in body:  # a card tokenized by the hosted fields
        return None if isinstance(body["token"], str) else "token must be a string"
    for field in ("card_number", "card_expiry", "card_cvc"):
        if not isinstance(body.get(field), str):
            return f"{field} must be a string"
    if not EXPIRY.match(body["card_expiry"].strip()):
        return "card_expiry must be MM/YY"
    if not CVC.match(body["card_cvc"].strip()):
        return "card_cvc must be 3 or 4 digits"
    return None


def charge_reply(result: dict[str, Any]) -> ResponseReturnValue:
    """A charge (or refusal) as the API answers it: 200, 402 declined, 400 rejected."""
    status = {"declined": 402, "rejected": 400}.get(result["status"], 200)
    return jsonify(result), status


def create_sandbox_app(
    faults: FaultSwitches, public_url: str = "", secret: bytes | None = None
) -> Flask:
    """Build the sandbox app; `public_url` is where browsers reach it, `secret` signs the
    hosted payment page's results. Its charges live as long as the app."""
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024)
    state = SandboxState(faults, public_url.rstrip("/"), secret or secrets.token_bytes(32))

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
        if "token" in body:
            card = state.tokens.get(body["token"])
            if card is None:
                return _bad_request("no such token")
            number = card.number
        else:
            number = body["card_number"]
        return charge_reply(state.charge(number, body["amount_cents"], body["currency"]))

    def charge_response(charge_id: str, **changes: str) -> ResponseReturnValue:
        """The charge as JSON after applying `changes` to it, or a 404 when there is none."""
        with state.charges.lock:
            charge = state.charges.get(charge_id)
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

    @app.post("/v1/charges/<charge_id>/confirm")
    def confirm_charge(charge_id: str) -> ResponseReturnValue:
        charge = state.confirm(charge_id)
        if charge is None:
            return jsonify(status="not_found", message="no such charge"), 404
        if charge["status"] == "requires_action":
            return jsonify(charge), 409  # the cardholder has not answered the challenge
        return charge_reply(charge)

    @app.get("/v1/tokens/<token>")
    def get_token(token: str) -> ResponseReturnValue:
        card = state.tokens.get(token)
        if card is None:
            return jsonify(status="not_found", message="no such token"), 404
        return jsonify(id=token, last4=card.last4)

    app.register_blueprint(build_hosted_fields(state))
    app.register_blueprint(build_three_d_secure(state))
    app.register_blueprint(build_hosted_payment_page(state))
    return app
