"""The provider's hosted payment page: the shop opens a payment session server to server,
sends the shopper to the provider's page, and gets them back with a signed result."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue

from .sandbox_state import SandboxState, card_problem
from .signatures import sign_result

_RETURN_URL = re.compile(r"^https?://[^\s]{1,500}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _session_body_error(body: Any) -> str | None:
    """Why a payment session request is malformed, or None."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    amount = body.get("amount_cents")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        return "amount_cents must be a positive integer"
    if not isinstance(body.get("currency"), str) or not _CURRENCY.match(body["currency"]):
        return "currency must be a three-letter ISO code"
    if not isinstance(body.get("return_url"), str) or not _RETURN_URL.match(body["return_url"]):
        return "return_url must be an http(s) URL"
    if not isinstance(body.get("merchant", ""), str):
        return "merchant must be a string"
    return None


def return_url(state: SandboxState, session: dict[str, Any], result: str) -> str:
    """The shop's return URL carrying the session, the result and their signature."""
    query = urlencode(
        {
            "session": session["id"],
            "result": result,
            "signature": sign_result(state.secret, session["id"], result),
        }
    )
    base = session["return_url"]
    return f"{base}{'&' if '?' in base else '?'}{query}"


def build_hosted_payment_page(state: SandboxState) -> Blueprint:
    """Payment sessions (server to server) and the page shoppers pay on."""
    hosted = Blueprint("hosted_payment_page", __name__)

    @hosted.post("/v1/payment_sessions")
    def create_session() -> ResponseReturnValue:
        body = request.get_json(silent=True)
        error = _session_body_error(body)
        if error is not None or not isinstance(body, dict):
            return jsonify(status="rejected", message=error), 400
        session: dict[str, Any] = {
            "id": f"ps_{secrets.token_hex(12)}",
            "status": "open",
            "amount_cents": body["amount_cents"],
            "currency": body["currency"],
            "merchant": body.get("merchant") or "the shop",
            "return_url": body["return_url"],
            "charge_id": "",
        }
        state.sessions.put(session["id"], session)
        return jsonify(
            id=session["id"], status="open", url=f"{state.public_url}/pay/{session['id']}"
        )

    @hosted.get("/v1/payment_sessions/<session_id>")
    def read_session(session_id: str) -> ResponseReturnValue:
        session = state.sessions.get(session_id)
        if session is None:
            return jsonify(status="not_found", message="no such payment session"), 404
        return jsonify({k: v for k, v in session.items() if k != "return_url"})

    def session_or_404(session_id: str) -> dict[str, Any]:
        session = state.sessions.get(session_id)
        if session is None:
            abort(404)
        return session

    def page(
        session: dict[str, Any], status: int = 200, error: str = "", challenge: str = ""
    ) -> ResponseReturnValue:
        html = render_template(
            "sandbox/hosted_page.html",
            payment=session,
            error=error,
            challenge_url=challenge,
            origin=state.public_url,
            holder=request.form.get("holder", "") if request.method == "POST" else "",
        )
        return html, status

    def paid(session: dict[str, Any], charge_id: str) -> ResponseReturnValue:
        """Mark the session paid and send the shopper back (unless the fault keeps them)."""
        with state.sessions.lock:
            session["status"] = "paid"
            session["charge_id"] = charge_id
        if state.faults.is_on("payment-no-return"):
            return render_template("sandbox/hosted_paid.html", payment=session)
        return redirect(return_url(state, session, "approved"), 303)

    @hosted.get("/pay/<session_id>")
    def show(session_id: str) -> ResponseReturnValue:
        session = session_or_404(session_id)
        if session["status"] == "paid":
            return render_template("sandbox/hosted_paid.html", payment=session)
        return page(session)

    @hosted.post("/pay/<session_id>")
    def pay(session_id: str) -> ResponseReturnValue:
        session = session_or_404(session_id)
        if session["status"] == "paid":
            return render_template("sandbox/hosted_paid.html", payment=session)
        form = request.form
        if not form.get("holder", "").strip():
            return page(session, 422, "Enter the cardholder's name.")
        problem = card_problem(form.get("number", ""), form.get("expiry", ""), form.get("cvc", ""))
        if problem is not None:
            return page(session, 422, problem[1])
        charge = state.charge(form["number"], session["amount_cents"], session["currency"])
        return outcome(session, charge)

    def outcome(session: dict[str, Any], charge: dict[str, Any]) -> ResponseReturnValue:
        if charge["status"] in ("declined", "rejected"):
            return page(session, 402, charge["message"])
        if charge["status"] == "requires_action":
            with state.sessions.lock:
                session["pending_charge"] = charge["id"]
            return page(session, challenge=charge["challenge_url"])
        return paid(session, charge["id"])

    @hosted.post("/pay/<session_id>/authenticate")
    def authenticated(session_id: str) -> ResponseReturnValue:
        session = session_or_404(session_id)
        charge = state.confirm(str(session.get("pending_charge", "")))
        if charge is None:
            return page(session, 409, "This payment has no authentication waiting.")
        return outcome(session, charge)

    return hosted
