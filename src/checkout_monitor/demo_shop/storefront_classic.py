"""The "classic" theme: AJAX add-to-cart and a three-step checkout (address, shipping, payment)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session
from flask.typing import ResponseReturnValue

from .addresses import address_from_session, validate_address
from .cart import add_item, parse_quantity, remove_item, set_discount_code, set_quantity, summarise
from .catalogue import PRODUCTS, SOLD_OUT_MESSAGE, Product, find_product
from .checkout import Buyer, issue_token, place_order, token_is_valid, validate_card
from .discounts import apply_code
from .error_pages import DISCOUNT_SERVICE_DOWN
from .shipping import SHIPPING_METHODS
from .shop_services import ShopServices


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def build_classic(services: ShopServices) -> Blueprint:
    """All pages of the classic storefront."""
    shop = Blueprint("classic", __name__)

    def product_or_404(slug: str) -> Product:
        product = find_product(slug)
        if product is None:
            abort(404)
        return product

    def product_page(product: Product, status: int = 200, notice: str = "") -> ResponseReturnValue:
        page = render_template(
            "classic/product.html",
            product=product,
            sold_out=services.sold_out(),
            script_broken=services.faults.is_on("add-to-cart-broken"),
            notice=notice,
        )
        return page, status

    def expired() -> ResponseReturnValue:
        return render_template("classic/checkout_expired.html"), 409

    @shop.get("/")
    def index() -> ResponseReturnValue:
        return render_template("classic/index.html", products=PRODUCTS)

    @shop.get("/products/<slug>")
    def product_detail(slug: str) -> ResponseReturnValue:
        product = product_or_404(slug)
        services.product_page_delay()
        return product_page(product)

    @shop.post("/cart/add")
    def cart_add() -> ResponseReturnValue:
        product = product_or_404(request.form.get("slug", ""))
        quantity = parse_quantity(request.form.get("quantity"))
        if services.sold_out() or quantity is None:
            status = 409 if services.sold_out() else 400
            message = SOLD_OUT_MESSAGE if status == 409 else "Please choose a quantity from 1 to 99"
            if _wants_json():
                return jsonify(ok=False, error=message), status
            return product_page(product, status, message)
        add_item(session, product.slug, quantity)
        if _wants_json():
            count = summarise(session).item_count
            return jsonify(ok=True, cart_count=count, message="Added to your cart")
        return redirect("/cart", 303)

    @shop.get("/cart")
    def cart_page() -> ResponseReturnValue:
        return render_template("classic/cart.html")

    @shop.post("/cart/update")
    def cart_update() -> ResponseReturnValue:
        quantity = parse_quantity(request.form.get("quantity"), allow_zero=True)
        if quantity is not None:
            set_quantity(session, request.form.get("slug", ""), quantity)
        return redirect("/cart", 303)

    @shop.post("/cart/remove")
    def cart_remove() -> ResponseReturnValue:
        remove_item(session, request.form.get("slug", ""))
        return redirect("/cart", 303)

    @shop.post("/cart/discount")
    def cart_discount() -> ResponseReturnValue:
        if services.faults.is_on("discount-engine-down"):
            return DISCOUNT_SERVICE_DOWN, 500
        outcome = apply_code(request.form.get("code", ""), summarise(session).subtotal_cents)
        if outcome.accepted:
            set_discount_code(session, outcome.code)
        flash(outcome.message, "discount-applied" if outcome.accepted else "discount-error")
        return redirect("/cart", 303)

    @shop.get("/checkout")
    def checkout_address() -> ResponseReturnValue:
        if not summarise(session).lines:
            return redirect("/cart", 303)
        address = address_from_session(session.get("address"))
        values = address.to_session() if address else {"country": "DE"}
        return render_template(
            "classic/checkout_address.html", token=issue_token(session), values=values, errors={}
        )

    @shop.post("/checkout/address")
    def submit_address() -> ResponseReturnValue:
        if not token_is_valid(session, request.form.get("checkout_token"), services.faults):
            return expired()
        if not summarise(session).lines:
            return redirect("/cart", 303)
        address, errors = validate_address(request.form)
        if address is None:
            page = render_template(
                "classic/checkout_address.html",
                token=issue_token(session),
                values=request.form,
                errors=errors,
            )
            return page, 422
        session["address"] = address.to_session()
        return redirect("/checkout/shipping", 303)

    @shop.get("/checkout/shipping")
    def checkout_shipping() -> ResponseReturnValue:
        if not summarise(session).lines:
            return redirect("/cart", 303)
        if address_from_session(session.get("address")) is None:
            return redirect("/checkout", 303)
        chosen = session.get("shipping_method", "standard")
        return render_template(
            "classic/checkout_shipping.html", token=issue_token(session), chosen=chosen, error=""
        )

    @shop.post("/checkout/shipping")
    def submit_shipping() -> ResponseReturnValue:
        if not token_is_valid(session, request.form.get("checkout_token"), services.faults):
            return expired()
        if not summarise(session).lines:
            return redirect("/cart", 303)
        if address_from_session(session.get("address")) is None:
            return redirect("/checkout", 303)
        method = request.form.get("shipping_method", "")
        if method not in SHIPPING_METHODS:
            page = render_template(
                "classic/checkout_shipping.html",
                token=issue_token(session),
                chosen="",
                error="Please choose a delivery method",
            )
            return page, 422
        session["shipping_method"] = method
        return redirect("/checkout/payment", 303)

    def payment_page(
        status: int = 200,
        error: str = "",
        field_errors: dict[str, str] | None = None,
    ) -> ResponseReturnValue:
        method = SHIPPING_METHODS[session["shipping_method"]]
        page = render_template(
            "classic/checkout_payment.html",
            token=issue_token(session),
            shipping=method,
            address=address_from_session(session.get("address")),
            error=error,
            field_errors=field_errors or {},
            values=request.form if request.method == "POST" else {},
        )
        return page, status

    def payment_prerequisite() -> ResponseReturnValue | None:
        if not summarise(session).lines:
            return redirect("/cart", 303)
        if address_from_session(session.get("address")) is None:
            return redirect("/checkout", 303)
        if session.get("shipping_method") not in SHIPPING_METHODS:
            return redirect("/checkout/shipping", 303)
        return None

    @shop.get("/checkout/payment")
    def checkout_payment() -> ResponseReturnValue:
        return payment_prerequisite() or payment_page()

    @shop.post("/checkout/payment")
    def submit_payment() -> ResponseReturnValue:
        if not token_is_valid(session, request.form.get("checkout_token"), services.faults):
            return expired()
        missing = payment_prerequisite()
        if missing is not None:
            return missing
        card, field_errors = validate_card(
            request.form.get("card_number", ""),
            request.form.get("card_expiry", ""),
            request.form.get("card_cvc", ""),
        )
        if not request.form.get("card_name", "").strip():
            field_errors["card_name"] = "Enter the name on the card"
        if card is None or field_errors:
            return payment_page(422, "Please check your card details.", field_errors)
        address = address_from_session(session.get("address"))
        assert address is not None  # checked by payment_prerequisite
        result = place_order(
            session=session,
            address=address,
            shipping=SHIPPING_METHODS[session["shipping_method"]],
            card=card,
            sandbox=services.sandbox,
            orders=services.orders,
            buyer=Buyer.identify(
                request.headers.get("User-Agent", ""), request.headers.get("X-Synthetic-Monitor")
            ),
        )
        if result.order is None:
            return payment_page(result.http_status, result.error)
        return redirect(f"/orders/{result.order.number}/confirmation", 303)

    @shop.get("/orders/<number>/confirmation")
    def confirmation(number: str) -> ResponseReturnValue:
        order = services.orders.get(number)
        if order is None:
            abort(404)
        return render_template("classic/confirmation.html", order=order)

    return shop
