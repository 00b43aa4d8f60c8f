"""3-D Secure challenges: the provider's frame on the checkout page holds the issuer's
("the bank's") frame, where the cardholder completes or fails authentication."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from .sandbox_state import SandboxState, web_origin


def build_three_d_secure(state: SandboxState) -> Blueprint:
    """The challenge frame, the issuer's frame inside it, and the answer it posts."""
    challenge = Blueprint("three_d_secure", __name__)

    def pending_charge(charge_id: str) -> dict[str, object]:
        charge = state.charges.get(charge_id)
        if charge is None or "three_d_secure" not in charge:
            abort(404)
        return charge

    def parent_or_404() -> str:
        parent = web_origin(request.values.get("parent"))
        if parent is None:
            abort(404)
        return parent

    @challenge.get("/v1/3ds/<charge_id>")
    def challenge_frame(charge_id: str) -> ResponseReturnValue:
        charge = pending_charge(charge_id)
        return render_template("sandbox/three_ds.html", charge=charge, parent=parent_or_404())

    @challenge.get("/v1/3ds/<charge_id>/acs")
    def issuer_frame(charge_id: str) -> ResponseReturnValue:
        charge = pending_charge(charge_id)
        return render_template(
            "sandbox/acs.html", charge=charge, parent=parent_or_404(), answered=""
        )

    @challenge.post("/v1/3ds/<charge_id>/acs")
    def answer(charge_id: str) -> ResponseReturnValue:
        charge = pending_charge(charge_id)
        parent = parent_or_404()
        passed = request.form.get("answer") == "complete"
        if passed and state.faults.is_on("three-ds-stuck"):
            # the issuer's server never answers: the spinner is all the shopper ever sees
            return render_template(
                "sandbox/acs.html", charge=charge, parent=parent, answered="stuck"
            )
        state.authenticate(charge_id, passed)
        answered = "complete" if passed else "fail"
        return render_template("sandbox/acs.html", charge=charge, parent=parent, answered=answered)

    return challenge
