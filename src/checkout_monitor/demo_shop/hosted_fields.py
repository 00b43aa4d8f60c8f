"""Hosted card fields: the provider's script mounts its own iframes on the shop's payment
page, the card is typed and tokenized on the provider's origin, and the shop only ever sees
a token (like Stripe Elements or Braintree Hosted Fields)."""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from .sandbox_state import SandboxCard, SandboxState, card_problem, web_origin

# "card": number, expiry and CVC in one iframe; the others: one iframe per field.
FIELD_KINDS: tuple[str, ...] = ("card", "number", "expiry", "cvc")
SCRIPT_DOWN = "<!doctype html><title>503 Service Unavailable</title><h1>Service Unavailable</h1>"


def build_hosted_fields(state: SandboxState) -> Blueprint:
    """The script, the field iframes and the tokenizing endpoint they post to."""
    fields = Blueprint("hosted_fields", __name__)

    @fields.get("/v1/elements.js")
    def elements_script() -> ResponseReturnValue:
        if state.faults.is_on("hosted-fields-script-down"):
            # what a CDN outage, a CSP change or an ad-blocker looks like from the page
            return Response(SCRIPT_DOWN, 503, mimetype="text/html")
        script = render_template("sandbox/elements.js", origin=state.public_url)
        response = Response(script, mimetype="application/javascript")
        response.headers["Cache-Control"] = "no-store"  # faults switch at run time
        return response

    @fields.get("/v1/elements/<kind>")
    def field_frame(kind: str) -> ResponseReturnValue:
        parent = web_origin(request.args.get("parent"))
        if kind not in FIELD_KINDS or parent is None:
            abort(404)
        return render_template("sandbox/card_field.html", kind=kind, parent=parent)

    @fields.post("/v1/tokens")
    def create_token() -> ResponseReturnValue:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not all(
            isinstance(body.get(name), str) for name in ("number", "expiry", "cvc")
        ):
            return jsonify(field="number", message="Enter your card details."), 400
        problem = card_problem(body["number"], body["expiry"], body["cvc"])
        if problem is not None:
            field, message = problem
            return jsonify(field=field, message=message), 400
        card = SandboxCard(body["number"].strip(), body["expiry"].strip(), body["cvc"].strip())
        token = f"tok_{secrets.token_hex(12)}"
        state.tokens.put(token, card)
        return jsonify(id=token, last4=card.last4)

    return fields
