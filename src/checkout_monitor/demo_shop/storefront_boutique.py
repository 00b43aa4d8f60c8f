"""The "boutique" theme: plain form posts, a basket, and a four-page checkout with a review.

The first checkout form is hidden behind a "Continue as guest" click.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, session
from flask.typing import ResponseReturnValue

from .addresses import address_from_session, validate_address
from .cart import add_item, parse_quantity, summarise
from .catalogue import PRODUCTS, SOLD_OUT_MESSAGE, Product
from .checkout import (
    TOKEN_KEY,
    CheckoutResult,
    PendingCards,
    card_last_digits,
    issue_token,
    token_is_valid,
    validate_card,
)
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

# The details form's field names, mapped onto the shop's canonical address fields.
ADDRESS_FIELD_NAMES: dict[str, str] = {
    "email": "contact[email]",
    "full_name": "shipping[name]",
    "address1": "shipping[street]",
    "city": "shipping[town]",
    "postcode": "shipping[zip]",
    "country": "shipping[country]",
}

# The checkout's pages in order; each needs everything the pages before it collected.
CHECKOUT_STEPS: tuple[str, ...] = ("details", "delivery", "payment", "review")
SESSION_EXPIRED = "Your session has expired, please reload the page."
TERMS_REQUIRED = "Please agree to the terms to place your order."
DEMO_PAY = "demo-pay"  # the one payment method of the redirect mode
RETURN_PATH = "/checkout/demo-pay/return"
CHALLENGE_ACTION = "/checkout/review/authenticate"


def _canonical_address(form: Mapping[str, str]) -> dict[str, str]:
    return {field: form.get(name, "") for field, name in ADDRESS_FIELD_NAMES.items()}


def _form_address(canonical: Mapping[str, str]) -> dict[str, str]:
    return {name: canonical.get(field, "") for field, name in ADDRESS_FIELD_NAMES.items()}


def build_boutique(services: ShopServices) -> Blueprint:
    """All pages of the boutique storefront."""
    shop = Blueprint("boutique", __name__)

    def product_page(product: Product, status: int = 200, error: str = "") -> ResponseReturnValue:
        return render_product(services, "boutique/product.html", product, error=error), status

    # Cards wait here between the payment and review pages, never in the cookie session.
    cards = PendingCards()

    def held_card() -> Card | CardToken | None:
        return cards.get(session.get(TOKEN_KEY))

    def payment_chosen() -> bool:
        if services.payment == "redirect":
            return session.get("payment_method") == DEMO_PAY
        return held_card() is not None

    def step_missing(step: str) -> ResponseReturnValue | None:
        """A redirect to the first page `step` needs that the buyer has not done yet, or None."""
        if not summarise(session).lines:
            return redirect("/basket", 303)
        done = {
            "details": address_from_session(session.get("address")) is not None,
            "delivery": session.get("shipping_method") in SHIPPING_METHODS,
            "payment": payment_chosen(),
        }
        for earlier in CHECKOUT_STEPS[: CHECKOUT_STEPS.index(step)]:
            if not done[earlier]:
                return redirect(f"/checkout/{earlier}", 303)
        return None

    def submit_refused(step: str) -> ResponseReturnValue | None:
        """Why a form posted to `step` cannot go on: the checkout expired or a page is missing."""
        if not token_is_valid(session, request.form.get("_token"), services.faults):
            return render_template("boutique/checkout_expired.html", error=SESSION_EXPIRED), 409
        return step_missing(step)

    def checkout_page(
        step: str, status: int = 200, errors: list[str] | None = None, **context: object
    ) -> ResponseReturnValue:
        """One checkout page, carrying the session's checkout token in its form."""
        method = SHIPPING_METHODS.get(str(session.get("shipping_method", "")))
        page = render_template(
            f"boutique/checkout_{step}.html",
            step=step,
            steps=CHECKOUT_STEPS,
            token=issue_token(session),
            errors=errors or [],
            shipping=method,
            **context,
        )
        return page, status

    def details_page(
        status: int = 200,
        errors: list[str] | None = None,
        *,
        posted: Mapping[str, str] | None = None,
        notice: str = "",
    ) -> ResponseReturnValue:
        saved = address_from_session(session.get("address"))
        values: Mapping[str, str] = {} if saved is None else _form_address(saved.to_session())
        if posted is not None:
            values = posted
        # Whoever posted the form, or comes back to change the address, already chose guest.
        show_form = posted is not None or saved is not None
        return checkout_page(
            "details", status, errors, show_form=show_form, values=values, notice=notice
        )

    def review_page(
        status: int = 200,
        errors: list[str] | None = None,
        challenge: dict[str, object] | None = None,
    ) -> ResponseReturnValue:
        card = held_card()
        return checkout_page(
            "review",
            status,
            errors,
            address=address_from_session(session.get("address")),
            card_ending=card_last_digits(card) if card else "",
            **(challenge or {}),
        )

    def payment_page(
        status: int = 200, errors: list[str] | None = None, holder: str = ""
    ) -> ResponseReturnValue:
        return checkout_page("payment", status, errors, holder=holder)

    def after_charge(result: CheckoutResult, token: str) -> ResponseReturnValue:
        """The order received page, or the review page with its error or 3-D Secure modal."""
        if result.order is not None:
            cards.forget(token)
            return redirect(f"/order-received/{result.order.number}", 303)
        if result.challenge_url:
            return review_page(
                challenge=challenge_context(services, result, CHALLENGE_ACTION, "_token")
            )
        return review_page(result.http_status, [result.error])

    def typed_payment() -> tuple[Card | CardToken | None, list[str]]:
        """The card (or hosted fields token) posted with the card page, or what is wrong."""
        if services.payment == "hosted-fields":
            token = request.form.get("payment[token]", "").strip()
            last4 = services.sandbox.token_last4(token) if token else None
            if last4 is None:
                return None, ["Enter your card details"]
            return CardToken(token, last4), []
        card, card_errors = validate_card(
            request.form.get("payment[number]", ""),
            request.form.get("payment[exp]", ""),
            request.form.get("payment[cvv]", ""),
        )
        return card, list(card_errors.values())

    @shop.get("/")
    def index() -> ResponseReturnValue:
        return render_template("boutique/index.html", products=PRODUCTS)

    @shop.get("/shop/<slug>")
    def product_detail(slug: str) -> ResponseReturnValue:
        return product_detail_page(services, "boutique/product.html", product_or_404(slug))

    @shop.post("/basket/add")
    def basket_add() -> ResponseReturnValue:
        product = product_or_404(request.form.get("slug", ""))
        if services.sold_out():
            return product_page(product, 409, SOLD_OUT_MESSAGE)
        quantity = parse_quantity(request.form.get("quantity", "1"))
        if quantity is None:
            return product_page(product, 400, "Please choose a quantity from 1 to 99")
        add_item(session, product.slug, quantity)
        flash("Item added to your basket", "flash-success")
        return redirect("/basket", 303)

    @shop.get("/basket")
    def basket() -> ResponseReturnValue:
        return render_template("boutique/basket.html")

    add_cart_routes(
        shop,
        services,
        CartRoutes(
            page="/basket",
            update="/basket/update",
            remove="/basket/remove",
            discount="/basket/voucher",
            code_field="voucher",
            accepted_class="voucher-ok",
            rejected_class="voucher-bad",
        ),
    )

    @shop.get("/checkout/onepage")
    def old_onepage() -> ResponseReturnValue:
        return redirect("/checkout/details", 302)  # links to the retired one-page checkout

    @shop.get("/checkout/details")
    def checkout_details() -> ResponseReturnValue:
        return step_missing("details") or details_page()

    @shop.post("/checkout/sign-in")
    def sign_in() -> ResponseReturnValue:
        if not summarise(session).lines:
            return redirect("/basket", 303)
        return details_page(
            notice="Sign-in is not available in the demo. Please continue as guest."
        )

    @shop.post("/checkout/details")
    def submit_details() -> ResponseReturnValue:
        refused = submit_refused("details")
        if refused is not None:
            return refused
        address, errors = validate_address(_canonical_address(request.form))
        if address is None:
            return details_page(422, list(errors.values()), posted=request.form)
        session["address"] = address.to_session()
        return redirect("/checkout/delivery", 303)

    @shop.get("/checkout/delivery")
    def checkout_delivery() -> ResponseReturnValue:
        chosen = session.get("shipping_method", "standard")
        return step_missing("delivery") or checkout_page("delivery", chosen=chosen)

    @shop.post("/checkout/delivery")
    def submit_delivery() -> ResponseReturnValue:
        refused = submit_refused("delivery")
        if refused is not None:
            return refused
        method = request.form.get("delivery", "")
        if method not in SHIPPING_METHODS:
            return checkout_page("delivery", 422, ["Choose a delivery option"], chosen="")
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
        if services.payment == "redirect":
            if request.form.get("method") != DEMO_PAY:
                return payment_page(422, ["Choose how you would like to pay"])
            session["payment_method"] = DEMO_PAY
            return redirect("/checkout/review", 303)
        holder = request.form.get("payment[holder]", "").strip()
        card, errors = typed_payment()
        if not holder:
            errors.append("Enter the name on the card")
        if card is None or errors:
            return payment_page(422, errors, holder)
        cards.put(issue_token(session), card)  # nothing is charged until the review page
        return redirect("/checkout/review", 303)

    @shop.get("/checkout/review")
    def checkout_review() -> ResponseReturnValue:
        return step_missing("review") or review_page()

    @shop.post("/checkout/review")
    def place() -> ResponseReturnValue:
        refused = submit_refused("review")
        if refused is not None:
            return refused
        if request.form.get("terms") is None:
            return review_page(422, [TERMS_REQUIRED])
        address = address_from_session(session.get("address"))
        assert address is not None  # checked by step_missing
        shipping = SHIPPING_METHODS[session["shipping_method"]]
        if services.payment == "redirect":
            sent, error = send_to_hosted_page(services, address, shipping, RETURN_PATH)
            return sent or review_page(502, [error])
        card = held_card()
        assert card is not None  # checked by step_missing
        token = session[TOKEN_KEY]
        return after_charge(place_order_for_request(services, address, shipping, card), token)

    @shop.post(CHALLENGE_ACTION)
    def answer_challenge() -> ResponseReturnValue:
        refused = submit_refused("review")
        if refused is not None:
            return refused
        address = address_from_session(session.get("address"))
        assert address is not None  # checked by step_missing
        shipping = SHIPPING_METHODS[session["shipping_method"]]
        token = session[TOKEN_KEY]
        return after_charge(finish_challenge_for_request(services, address, shipping), token)

    @shop.get(RETURN_PATH)
    def hosted_return() -> ResponseReturnValue:
        shipping = SHIPPING_METHODS.get(str(session.get("shipping_method", "")))
        address = address_from_session(session.get("address"))
        back = receive_hosted_return(services, address, shipping)
        if back.order_number:
            return redirect(f"/order-received/{back.order_number}", 303)
        return payment_problem(back.error, back.http_status)

    @shop.get("/order-received/<number>")
    def order_received(number: str) -> ResponseReturnValue:
        order = order_or_404(services, number)
        return render_template("boutique/confirmation.html", order=order)

    return shop
