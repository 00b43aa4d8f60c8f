"""The "classic" theme: AJAX add-to-cart and a three-step checkout (address, shipping, payment)."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session
from flask.typing import ResponseReturnValue

from .addresses import address_from_session, validate_address
from .cart import add_item, parse_quantity, summarise
from .catalogue import PRODUCTS, SOLD_OUT_MESSAGE, Product
from .checkout import CheckoutResult, issue_token, token_is_valid, validate_card
from .payments import Card, CardToken
from .shipping import SHIPPING_METHODS
from .shop_services import ShopServices
from .storefront_base import (
    CartRoutes,
    add_cart_routes,
    challenge_context,
    finish_challenge_for_request,
    order_or_404,
    payment_problem,
    place_order_for_request,
    product_detail_page,
    product_or_404,
    receive_hosted_return,
    render_product,
    send_to_hosted_page,
)

RETURN_PATH = "/checkout/payment/return"
CHALLENGE_ACTION = "/checkout/payment/authenticate"


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def build_classic(services: ShopServices) -> Blueprint:
    """All pages of the classic storefront."""
    shop = Blueprint("classic", __name__)

    def product_page(product: Product, status: int = 200, notice: str = "") -> ResponseReturnValue:
        return render_product(services, "classic/product.html", product, notice=notice), status

    def expired() -> ResponseReturnValue:
        return render_template("classic/checkout_expired.html"), 409

    @shop.get("/")
    def index() -> ResponseReturnValue:
        return render_template("classic/index.html", products=PRODUCTS)

    @shop.get("/products/<slug>")
    def product_detail(slug: str) -> ResponseReturnValue:
        return product_detail_page(services, "classic/product.html", product_or_404(slug))

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

    add_cart_routes(
        shop,
        services,
        CartRoutes(
            page="/cart",
            update="/cart/update",
            remove="/cart/remove",
            discount="/cart/discount",
            code_field="code",
            accepted_class="discount-applied",
            rejected_class="discount-error",
        ),
    )

    def step_missing(step: str) -> ResponseReturnValue | None:
        """A redirect to the first thing `step` needs that the buyer has not done yet, or None."""
        if not summarise(session).lines:
            return redirect("/cart", 303)
        if step != "address" and address_from_session(session.get("address")) is None:
            return redirect("/checkout", 303)
        if step == "payment" and session.get("shipping_method") not in SHIPPING_METHODS:
            return redirect("/checkout/shipping", 303)
        return None

    def submit_refused(step: str) -> ResponseReturnValue | None:
        """Why a form posted to `step` cannot go on: the checkout expired or a step is missing."""
        if not token_is_valid(session, request.form.get("checkout_token"), services.faults):
            return expired()
        return step_missing(step)

    def checkout_page(step: str, status: int = 200, **context: object) -> ResponseReturnValue:
        """One checkout step's page, carrying a fresh checkout token in its form."""
        page = render_template(
            f"classic/checkout_{step}.html", token=issue_token(session), **context
        )
        return page, status

    def payment_page(
        status: int = 200,
        error: str = "",
        field_errors: dict[str, str] | None = None,
        challenge: dict[str, object] | None = None,
    ) -> ResponseReturnValue:
        return checkout_page(
            "payment",
            status,
            shipping=SHIPPING_METHODS[session["shipping_method"]],
            address=address_from_session(session.get("address")),
            error=error,
            field_errors=field_errors or {},
            values=request.form if request.method == "POST" else {},
            **(challenge or {}),
        )

    def after_charge(result: CheckoutResult) -> ResponseReturnValue:
        """The confirmation, the payment page with its error, or with the 3-D Secure modal."""
        if result.order is not None:
            return redirect(f"/orders/{result.order.number}/confirmation", 303)
        if result.challenge_url:
            context = challenge_context(services, result, CHALLENGE_ACTION, "checkout_token")
            return payment_page(challenge=context)
        return payment_page(result.http_status, result.error)

    def typed_payment() -> tuple[Card | CardToken | None, dict[str, str]]:
        """The card (or hosted fields token) posted with the payment form, or field errors."""
        if services.payment == "hosted-fields":
            token = request.form.get("payment_token", "").strip()
            errors = {} if token else {"card_element": "Enter your card details"}
            return (CardToken(token, "") if token else None), errors
        return validate_card(
            request.form.get("card_number", ""),
            request.form.get("card_expiry", ""),
            request.form.get("card_cvc", ""),
        )

    @shop.get("/checkout")
    def checkout_address() -> ResponseReturnValue:
        missing = step_missing("address")
        if missing is not None:
            return missing
        address = address_from_session(session.get("address"))
        values = address.to_session() if address else {"country": "DE"}
        return checkout_page("address", values=values, errors={})

    @shop.post("/checkout/address")
    def submit_address() -> ResponseReturnValue:
        refused = submit_refused("address")
        if refused is not None:
            return refused
        address, errors = validate_address(request.form)
        if address is None:
            return checkout_page("address", 422, values=request.form, errors=errors)
        session["address"] = address.to_session()
        return redirect("/checkout/shipping", 303)

    @shop.get("/checkout/shipping")
    def checkout_shipping() -> ResponseReturnValue:
        chosen = session.get("shipping_method", "standard")
        return step_missing("shipping") or checkout_page("shipping", chosen=chosen, error="")

    @shop.post("/checkout/shipping")
    def submit_shipping() -> ResponseReturnValue:
        refused = submit_refused("shipping")
        if refused is not None:
            return refused
        method = request.form.get("shipping_method", "")
        if method not in SHIPPING_METHODS:
            error = "Please choose a delivery method"
            return checkout_page("shipping", 422, chosen="", error=error)
        session["shipping_method"] = method
        return redirect("/checkout/payment", 303)

    @shop.get("/checkout/payment")
    def checkout_payment() -> ResponseReturnValue:
        return step_missing("payment") or payment_page()

    @shop.post("/checkout/payment")
    def submit_payment() -> ResponseReturnValue:
        refused = submit_refused("payment")
        if refused is not None:
            return refused
        address = address_from_session(session.get("address"))
        assert address is not None  # checked by step_missing
        shipping = SHIPPING_METHODS[session["shipping_method"]]
        if services.payment == "redirect":
            sent, error = send_to_hosted_page(services, address, shipping, RETURN_PATH)
            return sent or payment_page(502, error)
        card, field_errors = typed_payment()
        if not request.form.get("card_name", "").strip():
            field_errors["card_name"] = "Enter the name on the card"
        if card is None or field_errors:
            return payment_page(422, "Please check your card details.", field_errors)
        return after_charge(place_order_for_request(services, address, shipping, card))

    @shop.post(CHALLENGE_ACTION)
    def submit_challenge() -> ResponseReturnValue:
        refused = submit_refused("payment")
        if refused is not None:
            return refused
        address = address_from_session(session.get("address"))
        assert address is not None  # checked by step_missing
        shipping = SHIPPING_METHODS[session["shipping_method"]]
        return after_charge(finish_challenge_for_request(services, address, shipping))

    @shop.get(RETURN_PATH)
    def hosted_return() -> ResponseReturnValue:
        shipping = SHIPPING_METHODS.get(str(session.get("shipping_method", "")))
        back = receive_hosted_return(
            services, address_from_session(session.get("address")), shipping
        )
        if back.order_number:
            return redirect(f"/orders/{back.order_number}/confirmation", 303)
        return payment_problem(back.error, back.http_status)

    @shop.get("/orders/<number>/confirmation")
    def confirmation(number: str) -> ResponseReturnValue:
        order = order_or_404(services, number)
        return render_template("classic/confirmation.html", order=order)

    return shop
