"""Listing and product pages of both themes, and the product images."""

from __future__ import annotations

import io
import re

import httpx
import pytest
from PIL import Image

from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.demo_shop.catalogue import PRODUCTS
from support.shop_http import text_of


def test_catalogue_has_six_products_with_the_demo_mug_first() -> None:
    assert len(PRODUCTS) >= 6
    assert PRODUCTS[0].slug == "speckled-mug"
    assert PRODUCTS[0].price_cents == 2400
    assert any(product.stock <= 2 for product in PRODUCTS)


def test_classic_listing_links_every_product(client: httpx.Client) -> None:
    html = client.get("/").text
    links = re.findall(r'<a class="product-card" href="([^"]+)"', html)
    assert links == [f"/products/{product.slug}" for product in PRODUCTS]
    assert '<link rel="icon" href="data:,">' in html


@pytest.mark.parametrize("product", PRODUCTS, ids=lambda p: p.slug)
def test_classic_product_page(client: httpx.Client, product: object) -> None:
    slug = product.slug
    html = client.get(f"/products/{slug}").text
    assert text_of(html, "product-title") == [product.name]
    assert re.search(r'class="product-price">€\d+\.\d\d<', html)
    assert text_of(html, "product-stock") == ["In stock"]
    assert 'id="add-to-cart-form" method="post" action="/cart/add"' in html
    assert 'name="quantity" value="1"' in html
    assert re.search(r'<button id="add-to-cart" type="submit">Add to cart</button>', html)
    assert re.search(r'id="cart-notice"[^>]*hidden', html)
    assert '<a class="cart-link" href="/cart">' in html


def test_product_page_offers_three_images_the_third_lazy(client: httpx.Client) -> None:
    html = client.get("/products/speckled-mug").text
    assert "/images/speckled-mug/1-480.jpg 480w, /images/speckled-mug/1-960.jpg 960w" in html
    assert '<source type="image/webp"' in html
    assert 'src="/images/speckled-mug/2-480.png"' in html
    lazy = re.search(r'<img class="product-photo photo-3" loading="lazy"', html)
    assert lazy and lazy.start() > html.index('class="product-details"')
    assert "http://" not in html and "https://" not in html


def test_unknown_product_is_404(client: httpx.Client) -> None:
    assert client.get("/products/no-such-thing").status_code == 404


def test_boutique_pages(boutique_client: httpx.Client) -> None:
    listing = boutique_client.get("/").text
    assert re.findall(r'<li class="tile">\s*<a href="([^"]+)"', listing) == [
        f"/shop/{product.slug}" for product in PRODUCTS
    ]
    html = boutique_client.get("/shop/speckled-mug").text
    assert '<h2 itemprop="name">Speckled Stoneware Mug</h2>' in html
    assert '<span itemprop="price" content="24.00">€24.00</span>' in html
    assert '<p class="availability">Available</p>' in html
    assert '<form class="basket-form" method="post" action="/basket/add">' in html
    assert '<button class="add-to-basket" type="submit">Add to basket</button>' in html
    assert '<a id="basket-link" href="/basket">Basket<b class="basket-qty">0</b></a>' in html
    assert boutique_client.get("/products/speckled-mug").status_code == 404


def test_healthz(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


EXPECTED = {
    "jpg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "webp": ("WEBP", "image/webp"),
}
VARIANTS = [(1, "jpg"), (2, "webp"), (2, "png"), (3, "jpg")]


def test_every_image_decodes_with_matching_type(shop: DemoShop) -> None:
    seen = set()
    with httpx.Client(base_url=shop.shop_url) as http:
        for product in PRODUCTS:
            for index, ext in VARIANTS:
                for width in (480, 960):
                    response = http.get(f"/images/{product.slug}/{index}-{width}.{ext}")
                    assert response.status_code == 200
                    pil_format, content_type = EXPECTED[ext]
                    assert response.headers["content-type"] == content_type
                    image = Image.open(io.BytesIO(response.content))
                    image.load()
                    assert image.format == pil_format
                    assert image.size == (width, width * 3 // 4)
                    lo, hi = image.convert("L").getextrema()
                    assert hi - lo > 40  # not a flat colour
                    seen.add(pil_format)
    assert seen == {"JPEG", "PNG", "WEBP"}


@pytest.mark.parametrize(
    "path",
    [
        "/images/speckled-mug/1-480.png",
        "/images/speckled-mug/4-480.jpg",
        "/images/speckled-mug/1-500.jpg",
        "/images/nope/1-480.jpg",
    ],
)
def test_images_that_do_not_exist_are_404(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404
