"""What both storefront themes share: lookups that 404, product pages, orders, cart routes."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, session
from flask.typing import ResponseReturnValue

from .addresses import Address
from .cart import parse_quantity, remove_item, set_discount_code, set_quantity, summarise
from .catalogue import Product, find_product
from .checkout import (
    TOKEN_KEY,
    Buyer,
    CheckoutResult,
    OrderRequest,
    finish_challenge,
    place_order,
)
from .discounts import apply_code
from .error_pages import DISCOUNT_SERVICE_DOWN
from .hosted_checkout import HostedReturn, ReturnParams, complete_return, open_session
from .hostile_responses import redirect_in_circles, trickle_forever
from .orders import Order
from .payments import Card, CardToken
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


def order_request(
    services: ShopServices, address: Address, shipping: ShippingMethod
) -> OrderRequest:
    """This request's cart as an order to pay for, telling the shop who (or what) is buying."""
    return OrderRequest(
        session=session,
        address=address,
        shipping=shipping,
        sandbox=services.sandbox,
        orders=services.orders,
        buyer=Buyer.identify(
            request.headers.get("User-Agent", ""), request.headers.get("X-Synthetic-Monitor")
        ),
    )


def place_order_for_request(
    services: ShopServices, address: Address, shipping: ShippingMethod, card: Card | CardToken
) -> CheckoutResult:
    """Place the order for this request's cart, charging the card (or hosted fields token)."""
    return place_order(order_request(services, address, shipping), card)


def finish_challenge_for_request(
    services: ShopServices, address: Address, shipping: ShippingMethod
) -> CheckoutResult:
    """The order (or decline) once the 3-D Secure challenge of this checkout was answered."""
    return finish_challenge(order_request(services, address, shipping))


def challenge_context(
    services: ShopServices, result: CheckoutResult, action: str, token_field: str
) -> dict[str, object]:
    """Template context for the 3-D Secure modal over a payment page (empty: none)."""
    if not result.challenge_url:
        return {}
    return {
        "challenge": {
            "url": result.challenge_url,
            "parent": request.host_url.rstrip("/"),
            "provider": services.sandbox_public_url,
            "action": action,
            "hidden": {token_field: session.get(TOKEN_KEY, "")},
        }
    }


def send_to_hosted_page(
    services: ShopServices, address: Address, shipping: ShippingMethod, return_path: str
) -> tuple[ResponseReturnValue | None, str]:
    """(a redirect to the provider's payment page, "") or (None, the error to show)."""
    url, error = open_session(
        order_request(services, address, shipping), request.host_url.rstrip("/") + return_path
    )
    return (redirect(url, 303) if url else None), error


def receive_hosted_return(
    services: ShopServices, address: Address | None, shipping: ShippingMethod | None
) -> HostedReturn:
    """Check the provider's signed result on the shopper's way back, and record the order."""
    params = ReturnParams(
        request.args.get("session", ""),
        request.args.get("result", ""),
        request.args.get("signature", ""),
    )
    pending = (
        order_request(services, address, shipping)
        if address is not None and shipping is not None and summarise(session).lines
        else None
    )
    return complete_return(params, services.payment_secret, services.hosted_orders, pending)


def payment_problem(error: str, status: int) -> ResponseReturnValue:
    """The page a shopper sees when the shop refuses a payment coming back from the provider."""
    return render_template("shared/payment_problem.html", error=error), status


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
