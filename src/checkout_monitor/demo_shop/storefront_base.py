"""What both storefront themes share: lookups that 404, product pages, orders, cart routes."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, session
from flask.typing import ResponseReturnValue

from .addresses import Address
from .cart import parse_quantity, remove_item, set_discount_code, set_quantity, summarise
from .catalogue import Product, find_product
from .checkout import Buyer, CheckoutResult, place_order
from .discounts import apply_code
from .error_pages import DISCOUNT_SERVICE_DOWN
from .hostile_responses import redirect_in_circles, trickle_forever
from .orders import Order
from .payments import Card
from .shipping import ShippingMethod
from .shop_services import ShopServices


def product_or_404(slug: str) -> Product:
    """The product with this slug; a 404 response when there is none."""
    product = find_product(slug)
    if product is None:
        abort(404)
    return product


def render_product(
    services: ShopServices, template: str, product: Product, **context: object
) -> str:
    """A product page with the flags every theme's needs: sold out, add-to-cart script broken."""
    return render_template(
        template,
        product=product,
        sold_out=services.sold_out(),
        script_broken=services.faults.is_on("add-to-cart-broken"),
        **context,
    )


def product_detail_page(
    services: ShopServices, template: str, product: Product
) -> ResponseReturnValue:
    """A product page as the active faults serve it: in a redirect loop, held back, or
    trickled out forever."""
    if services.faults.is_on("redirect-loop"):
        return redirect_in_circles()
    services.product_page_delay()
    page = render_product(services, template, product)
    if services.faults.is_on("endless-page"):
        # the page shows everything but its end: the parser, and the load event, wait forever
        head = page[: page.rfind("</body>")] if "</body>" in page else page
        interval = services.faults.param("endless-page", "interval_seconds")
        return trickle_forever(head, interval, services.stopping)
    return page


def order_or_404(services: ShopServices, number: str) -> Order:
    """The order with this number; a 404 response when there is none."""
    order = services.orders.get(number)
    if order is None:
        abort(404)
    return order


def place_order_for_request(
    services: ShopServices, address: Address, shipping: ShippingMethod, card: Card
) -> CheckoutResult:
    """Place the order for this request's cart, telling the shop who (or what) is buying."""
    return place_order(
        session=session,
        address=address,
        shipping=shipping,
        card=card,
        sandbox=services.sandbox,
        orders=services.orders,
        buyer=Buyer.identify(
            request.headers.get("User-Agent", ""), request.headers.get("X-Synthetic-Monitor")
        ),
    )


@dataclass(frozen=True)
class CartRoutes:
    """What one theme calls its cart: the paths, the discount field and the flash classes."""

    page: str
    update: str
    remove: str
    discount: str
    code_field: str
    accepted_class: str
    rejected_class: str


def add_cart_routes(shop: Blueprint, services: ShopServices, names: CartRoutes) -> None:
    """Register the POST routes that change the cart; each redirects back to the cart page."""

    @shop.post(names.update)
    def cart_update() -> ResponseReturnValue:
        quantity = parse_quantity(request.form.get("quantity"), allow_zero=True)
        if quantity is not None:
            set_quantity(session, request.form.get("slug", ""), quantity)
        return redirect(names.page, 303)

    @shop.post(names.remove)
    def cart_remove() -> ResponseReturnValue:
        remove_item(session, request.form.get("slug", ""))
        return redirect(names.page, 303)

    @shop.post(names.discount)
    def cart_discount() -> ResponseReturnValue:
        if services.faults.is_on("discount-engine-down"):
            return DISCOUNT_SERVICE_DOWN, 500
        code = request.form.get(names.code_field, "")
        outcome = apply_code(code, summarise(session).subtotal_cents)
        if outcome.accepted:
            set_discount_code(session, outcome.code)
        flash(outcome.message, names.accepted_class if outcome.accepted else names.rejected_class)
        return redirect(names.page, 303)
