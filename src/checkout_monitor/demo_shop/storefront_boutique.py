"""The "boutique" theme: plain form posts, a basket, and a one-page checkout behind a click."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, session
from flask.typing import ResponseReturnValue

from .addresses import validate_address
from .cart import add_item, parse_quantity, summarise
from .catalogue import PRODUCTS, SOLD_OUT_MESSAGE, Product
from .checkout import issue_token, token_is_valid, validate_card
from .shipping import SHIPPING_METHODS
from .shop_services import ShopServices
from .storefront_base import (
    CartRoutes,
    add_cart_routes,
    order_or_404,
    place_order_for_request,
    product_or_404,
    render_product,
)

# The one-page form's field names, mapped onto the shop's canonical address fields.
ADDRESS_FIELD_NAMES: dict[str, str] = {
    "email": "contact[email]",
    "full_name": "shipping[name]",
    "address1": "shipping[street]",
    "city": "shipping[town]",
    "postcode": "shipping[zip]",
    "country": "shipping[country]",
}


def _canonical_address(form: Mapping[str, str]) -> dict[str, str]:
    return {field: form.get(name, "") for field, name in ADDRESS_FIELD_NAMES.items()}


def build_boutique(services: ShopServices) -> Blueprint:
    """All pages of the boutique storefront."""
    shop = Blueprint("boutique", __name__)

    def product_page(product: Product, status: int = 200, error: str = "") -> ResponseReturnValue:
        return render_product(services, "boutique/product.html", product, error=error), status

    def onepage(
        status: int = 200,
        errors: list[str] | None = None,
        *,
        show_form: bool = False,
        notice: str = "",
    ) -> ResponseReturnValue:
        page = render_template(
            "boutique/onepage.html",
            token=issue_token(session),
            errors=errors or [],
            show_form=show_form,
            values=request.form if request.method == "POST" else {},
            expired=False,
            notice=notice,
        )
        return page, status

    @shop.get("/")
    def index() -> ResponseReturnValue:
        return render_template("boutique/index.html", products=PRODUCTS)

    @shop.get("/shop/<slug>")
    def product_detail(slug: str) -> ResponseReturnValue:
        product = product_or_404(slug)
        services.product_page_delay()
        return product_page(product)

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
    def checkout() -> ResponseReturnValue:
        if not summarise(session).lines:
            return redirect("/basket", 303)
        return onepage()

    @shop.post("/checkout/sign-in")
    def sign_in() -> ResponseReturnValue:
        if not summarise(session).lines:
            return redirect("/basket", 303)
        return onepage(notice="Sign-in is not available in the demo. Please continue as guest.")

    @shop.post("/checkout/onepage")
    def place() -> ResponseReturnValue:
        if not token_is_valid(session, request.form.get("_token"), services.faults):
            page = render_template(
                "boutique/onepage.html",
                token="",
                errors=["Your session has expired, please reload the page."],
                show_form=False,
                values={},
                expired=True,
                notice="",
            )
            return page, 409
        if not summarise(session).lines:
            return redirect("/basket", 303)
        address, address_errors = validate_address(_canonical_address(request.form))
        card, card_errors = validate_card(
            request.form.get("payment[number]", ""),
            request.form.get("payment[exp]", ""),
            request.form.get("payment[cvv]", ""),
        )
        errors = list(address_errors.values()) + list(card_errors.values())
        if not request.form.get("payment[holder]", "").strip():
            errors.append("Enter the name on the card")
        delivery = SHIPPING_METHODS.get(request.form.get("delivery", ""))
        if delivery is None:
            errors.append("Choose a delivery option")
        if address is None or card is None or delivery is None or errors:
            return onepage(422, errors, show_form=True)
        result = place_order_for_request(services, address, delivery, card)
        if result.order is None:
            return onepage(result.http_status, [result.error], show_form=True)
        return redirect(f"/order-received/{result.order.number}", 303)

    @shop.get("/order-received/<number>")
    def order_received(number: str) -> ResponseReturnValue:
        order = order_or_404(services, number)
        return render_template("boutique/confirmation.html", order=order)

    return shop
