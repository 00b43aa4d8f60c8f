"""The bearer-token JSON API for operators: read and cancel orders, switch faults at run time."""

from __future__ import annotations

import secrets

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from .faults import FAULTS
from .shop_services import ShopServices


def _faults_body(services: ShopServices) -> dict[str, object]:
    return {"active": services.faults.active(), "available": dict(FAULTS)}


def _unknown_fault(name: str) -> ResponseReturnValue:
    body = {"error": f"unknown fault {name!r}", "valid_faults": list(FAULTS)}
    return jsonify(body), 404


def build_operator_api(services: ShopServices) -> Blueprint:
    """Routes under /api/orders and /admin/faults, all behind `Authorization: Bearer`."""
    api = Blueprint("operator_api", __name__)

    @api.before_request
    def require_token() -> ResponseReturnValue | None:
        supplied = request.headers.get("Authorization", "")
        expected = f"Bearer {services.admin_token}"
        if secrets.compare_digest(supplied.encode(), expected.encode()):
            return None
        body = {"error": "unauthorized", "message": "send Authorization: Bearer <admin token>"}
        return jsonify(body), 401, {"WWW-Authenticate": 'Bearer realm="demo-shop"'}

    @api.get("/api/orders")
    def list_orders() -> ResponseReturnValue:
        return jsonify(orders=[order.to_json() for order in services.orders.list()])

    @api.get("/api/orders/<number>")
    def get_order(number: str) -> ResponseReturnValue:
        order = services.orders.get(number)
        if order is None:
            return jsonify(error=f"no order {number}"), 404
        return jsonify(order.to_json())

    @api.post("/api/orders/<number>/cancel")
    def cancel_order(number: str) -> ResponseReturnValue:
        order = services.orders.get(number)
        if order is None:
            return jsonify(error=f"no order {number}"), 404
        if order.status != "cancelled":
            # A failed refund is for the payments team to chase; the cancel still stands.
            services.sandbox.refund(order.charge_id)
        cancelled = services.orders.cancel(number)
        return jsonify(cancelled.to_json() if cancelled else order.to_json())

    @api.get("/admin/faults")
    def list_faults() -> ResponseReturnValue:
        return jsonify(_faults_body(services))

    @api.post("/admin/faults/<name>")
    def enable_fault(name: str) -> ResponseReturnValue:
        if name not in FAULTS:
            return _unknown_fault(name)
        params = request.get_json(silent=True) if request.get_data() else {}
        if not isinstance(params, dict):
            return jsonify(error="body must be a JSON object of numeric parameters"), 400
        try:
            services.faults.enable(name, **params)
        except (ValueError, TypeError) as error:
            return jsonify(error=str(error)), 400
        return jsonify(_faults_body(services))

    @api.delete("/admin/faults/<name>")
    def disable_fault(name: str) -> ResponseReturnValue:
        if name not in FAULTS:
            return _unknown_fault(name)
        services.faults.disable(name)
        return jsonify(_faults_body(services))

    return api
