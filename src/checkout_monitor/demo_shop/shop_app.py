"""The storefront Flask app: shared routes (images, health, operator API) plus one theme."""

from __future__ import annotations

from flask import Flask, Response, abort, request, session
from flask.typing import ResponseReturnValue

from .addresses import COUNTRIES
from .cart import summarise
from .catalogue import PRODUCTS
from .foreign_host import install_foreign_host
from .hostile_responses import oversized
from .images import (
    decompression_bomb_jpeg,
    image_bytes,
    image_url,
    parse_image_name,
    placeholder_bytes,
    truncated,
)
from .money import decimal_eur, format_eur
from .operator_api import build_operator_api
from .shipping import SHIPPING_METHODS
from .shop_services import ShopServices
from .storefront_boutique import build_boutique
from .storefront_classic import build_classic
from .themes import check_theme

# The image the image faults hit: the second photo of the product the demo journey buys.
FAULTY_IMAGE_SLUG = PRODUCTS[0].slug
FAULTY_IMAGE_INDEX = 2
# The bomb sits on the second product's page: only the image check visits it, so the
# browser pays for its 100 megapixels once, not on every journey's way to the cart.
BOMB_IMAGE_SLUG = PRODUCTS[1].slug


def overlay_context(services: ShopServices) -> dict[str, object]:
    """Which overlays this page shows: each until this browser dismissed it (a cookie).
    overlay-stuck shows the consent wall whatever the shop was started with."""
    stuck = services.faults.is_on("overlay-stuck")
    banner = "cookie-banner" in services.overlays or stuck
    return {
        "show_cookie_banner": banner and "cookie_consent" not in request.cookies,
        "show_newsletter": (
            "newsletter" in services.overlays and "newsletter_seen" not in request.cookies
        ),
        "overlay_stuck": stuck,
        "newsletter_delay_ms": round(services.newsletter_delay * 1000),
    }


def create_shop_app(theme: str, services: ShopServices, secret_key: str) -> Flask:
    """Build the shop for one theme; `secret_key` signs the cookie session (cart, checkout)."""
    check_theme(theme)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_NAME="shop_session",
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.jinja_env.globals.update(
        format_eur=format_eur,
        decimal_eur=decimal_eur,
        image_url=image_url,
        countries=COUNTRIES,
        shipping_methods=SHIPPING_METHODS,
    )

    @app.context_processor
    def header_context() -> dict[str, object]:
        return {
            "cart": summarise(session),
            "theme": theme,
            "payment_mode": services.payment,
            "sandbox_public_url": services.sandbox_public_url,
            **overlay_context(services),
        }

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return Response("ok", mimetype="text/plain")

    @app.get("/images/<slug>/<name>")
    def product_image(slug: str, name: str) -> ResponseReturnValue:
        wanted = parse_image_name(slug, name)
        if wanted is None:
            abort(404)
        data = image_bytes(wanted.slug, wanted.index, wanted.width, wanted.ext)
        content_type = wanted.content_type
        if wanted.slug == FAULTY_IMAGE_SLUG and wanted.index == FAULTY_IMAGE_INDEX:
            faults = services.faults
            if faults.is_on("broken-image"):
                abort(404)
            if faults.is_on("corrupt-image"):
                data = truncated(data)
            elif faults.is_on("placeholder-image"):
                data = placeholder_bytes(wanted.ext)
            elif faults.is_on("huge-image"):
                return oversized(
                    data,
                    content_type,
                    round(faults.param("huge-image", "size_mib") * 1024 * 1024),
                    services.stopping,
                    announce_length=bool(faults.param("huge-image", "content_length")),
                )
        if (
            wanted.slug == BOMB_IMAGE_SLUG
            and wanted.index == FAULTY_IMAGE_INDEX
            and services.faults.is_on("decompression-bomb")
        ):
            # JPEG whatever the name asks: an origin serving the original as it came
            data, content_type = decompression_bomb_jpeg(), "image/jpeg"
        response = Response(data, mimetype=content_type)
        # Faults switch at run time; a cached good copy would hide them.
        response.headers["Cache-Control"] = "no-store"
        return response

    install_foreign_host(app, services.faults)
    app.register_blueprint(build_operator_api(services))
    builders = {"classic": build_classic, "boutique": build_boutique}
    app.register_blueprint(builders[theme](services))
    return app
