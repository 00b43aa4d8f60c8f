"""Every fault's effect as a customer (or a monitor) sees it over HTTP, plus the admin API."""

from __future__ import annotations

import io
import socket
import threading
import time

import httpx
import pytest
from PIL import Image

from checkout_monitor.demo_shop import FAULTS, THEMES, DemoShop
from checkout_monitor.demo_shop.faults import FaultSwitches
from checkout_monitor.demo_shop.images import decompression_bomb_jpeg
from support.shop_http import ClassicCheckout, admin, text_of

FAULTY_IMAGES = [
    "/images/speckled-mug/2-480.webp",
    "/images/speckled-mug/2-960.webp",
    "/images/speckled-mug/2-480.png",
    "/images/speckled-mug/2-960.png",
]


def test_every_fault_has_a_description() -> None:
    assert len(FAULTS) == 19
    assert all(isinstance(text, str) and text for text in FAULTS.values())


def test_broken_image_is_404_for_every_variant(shop: DemoShop, client: httpx.Client) -> None:
    shop.faults.enable("broken-image")
    assert [client.get(path).status_code for path in FAULTY_IMAGES] == [404] * 4
    assert client.get("/images/speckled-mug/1-480.jpg").status_code == 200
    assert client.get("/images/stoneware-bowl/2-480.webp").status_code == 200


def test_corrupt_image_is_200_but_undecodable(shop: DemoShop, client: httpx.Client) -> None:
    healthy = client.get(FAULTY_IMAGES[0]).content
    shop.faults.enable("corrupt-image")
    for path in FAULTY_IMAGES:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/")
        with pytest.raises(OSError):
            Image.open(io.BytesIO(response.content)).load()
    assert len(client.get(FAULTY_IMAGES[0]).content) < len(healthy) // 2


def test_placeholder_image_is_a_valid_single_pixel(shop: DemoShop, client: httpx.Client) -> None:
    shop.faults.enable("placeholder-image")
    for path in FAULTY_IMAGES:
        response = client.get(path)
        image = Image.open(io.BytesIO(response.content))
        assert image.size == (1, 1)
        assert image.format == path.rsplit(".", 1)[1].upper()


def test_slow_product_page(shop: DemoShop, client: httpx.Client) -> None:
    shop.faults.enable("slow-product-page", delay_seconds=0.6)
    started = time.monotonic()
    assert client.get("/products/speckled-mug").status_code == 200
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    client.get("/cart")
    assert time.monotonic() - started < 0.5


def test_slow_product_page_default_delay_and_constructor_params() -> None:
    assert FaultSwitches().param("slow-product-page", "delay_seconds") == 20
    with DemoShop(
        faults=["slow-product-page"], fault_params={"slow-product-page": {"delay_seconds": 0.3}}
    ) as shop:
        assert shop.faults.active() == {"slow-product-page": {"delay_seconds": 0.3}}
        started = time.monotonic()
        httpx.get(f"{shop.shop_url}/products/linen-apron")
        assert time.monotonic() - started >= 0.3


def test_add_to_cart_broken_ships_a_throwing_script(shop: DemoShop, client: httpx.Client) -> None:
    healthy = client.get("/products/speckled-mug").text
    assert "window.ShopCart" not in healthy and "fetch(form.action" in healthy
    shop.faults.enable("add-to-cart-broken")
    broken = client.get("/products/speckled-mug").text
    assert "event.preventDefault();" in broken
    assert "window.ShopCart.add(" in broken and "fetch(" not in broken


def test_add_to_cart_broken_in_boutique(boutique: DemoShop, boutique_client: httpx.Client) -> None:
    assert "<script>" not in boutique_client.get("/shop/speckled-mug").text
    boutique.faults.enable("add-to-cart-broken")
    broken = boutique_client.get("/shop/speckled-mug").text
    assert "event.preventDefault();" in broken and "window.basketAnalytics.track(" in broken


def test_discount_engine_down(shop: DemoShop, checkout: ClassicCheckout) -> None:
    checkout.add()
    shop.faults.enable("discount-engine-down")
    response = checkout.discount("SAVE10")
    assert response.status_code == 500
    assert "Internal Server Error - discount service unavailable" in response.text
    shop.faults.disable("discount-engine-down")
    assert checkout.discount("SAVE10").status_code == 200


def test_payment_declines(shop: DemoShop, checkout: ClassicCheckout) -> None:
    checkout.add()
    token = checkout.to_payment()
    shop.faults.enable("payment-declines")
    response = checkout.pay(token)
    assert response.status_code == 402
    assert text_of(response.text, "payment-error") == [
        "Your card was declined. Please use a different card."
    ]
    assert shop.orders.list() == []


def test_payment_provider_down(shop: DemoShop, checkout: ClassicCheckout) -> None:
    checkout.add()
    token = checkout.to_payment()
    shop.faults.enable("payment-provider-down")
    health = httpx.get(f"{shop.sandbox_url}/health")
    assert (health.status_code, health.json()) == (503, {"status": "unavailable"})
    response = checkout.pay(token)
    assert response.status_code == 502
    assert "Our payment provider is not responding" in response.text
    assert shop.orders.list() == []
    shop.faults.disable("payment-provider-down")
    assert httpx.get(f"{shop.sandbox_url}/health").json() == {"status": "ok"}


def test_checkout_token_rejected(shop: DemoShop, checkout: ClassicCheckout) -> None:
    checkout.add()
    token = checkout.token()
    shop.faults.enable("checkout-token-rejected")
    response = checkout.http.post("/checkout/address", data={"checkout_token": token})
    assert response.status_code == 409
    assert "Your session expired." in response.text


def test_out_of_stock(shop: DemoShop, client: httpx.Client) -> None:
    shop.faults.enable("out-of-stock")
    html = client.get("/products/speckled-mug").text
    assert '<p class="product-stock sold-out">Sold out</p>' in html
    assert '<button id="add-to-cart" type="submit" disabled>' in html
    json_add = client.post(
        "/cart/add",
        data={"slug": "speckled-mug", "quantity": "1"},
        headers={"Accept": "application/json"},
    )
    assert (json_add.status_code, json_add.json()["error"]) == (409, "Sorry, this item is sold out")
    form_add = client.post("/cart/add", data={"slug": "speckled-mug", "quantity": "1"})
    assert form_add.status_code == 409
    assert "Sorry, this item is sold out" in form_add.text
    assert text_of(client.get("/cart").text, "cart-count") == ["0"]


def test_out_of_stock_in_boutique(boutique: DemoShop, boutique_client: httpx.Client) -> None:
    boutique.faults.enable("out-of-stock")
    html = boutique_client.get("/shop/speckled-mug").text
    assert '<p class="availability out">Out of stock</p>' in html
    assert '<button class="add-to-basket" type="submit" disabled>' in html
    response = boutique_client.post("/basket/add", data={"slug": "speckled-mug"})
    assert response.status_code == 409
    assert "Sorry, this item is sold out" in response.text


def test_admin_faults_endpoint(shop: DemoShop) -> None:
    with httpx.Client(base_url=shop.shop_url) as http:
        assert http.get("/admin/faults").status_code == 401
        assert http.post("/admin/faults/out-of-stock").status_code == 401
        wrong = {"Authorization": f"Bearer {shop.admin_token}x"}
        assert http.post("/admin/faults/out-of-stock", headers=wrong).status_code == 401
        body = http.get("/admin/faults", headers=admin(shop)).json()
        assert body == {"active": {}, "available": FAULTS}
        enabled = http.post(
            "/admin/faults/slow-product-page", json={"delay_seconds": 3}, headers=admin(shop)
        )
        assert enabled.json()["active"] == {"slow-product-page": {"delay_seconds": 3.0}}
        http.delete("/admin/faults/slow-product-page", headers=admin(shop))
        http.post("/admin/faults/out-of-stock", headers=admin(shop))
        assert shop.faults.is_on("out-of-stock")
        assert "Sold out" in http.get("/products/linen-apron").text
        http.delete("/admin/faults/out-of-stock", headers=admin(shop))
        assert "Sold out" not in http.get("/products/linen-apron").text
        unknown = http.post("/admin/faults/nope", headers=admin(shop))
        assert unknown.status_code == 404
        assert unknown.json()["valid_faults"] == list(FAULTS)
        bad = http.post("/admin/faults/slow-product-page", json={"delay": "x"}, headers=admin(shop))
        assert bad.status_code == 400


def test_unknown_fault_and_theme_list_the_valid_names() -> None:
    with pytest.raises(ValueError, match="valid faults: broken-image, corrupt-image"):
        DemoShop(faults=["melted-server"])
    with pytest.raises(ValueError, match="valid themes: classic, boutique"):
        DemoShop(theme="brutalist")
    with pytest.raises(ValueError, match="delay_seconds"):
        DemoShop(fault_params={"slow-product-page": {"delay": 1}})
    assert THEMES == ("classic", "boutique")


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_stop_frees_both_ports_and_is_idempotent() -> None:
    shop = DemoShop(admin_token=None).start()
    assert shop.admin_token and shop.shop_url.startswith("http://127.0.0.1:")
    ports = [int(url.rsplit(":", 1)[1]) for url in (shop.shop_url, shop.sandbox_url)]
    assert httpx.get(f"{shop.shop_url}/healthz").text == "ok"
    shop.stop()
    shop.stop()
    assert all(_port_is_free(port) for port in ports)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{shop.shop_url}/healthz")


def test_stop_wakes_a_slow_product_page() -> None:
    with DemoShop(faults=["slow-product-page"]) as shop:
        url = f"{shop.shop_url}/products/speckled-mug"
        thread = threading.Thread(target=lambda: httpx.get(url, timeout=30), daemon=True)
        thread.start()
        time.sleep(0.2)
    started = time.monotonic()
    thread.join(timeout=5)
    assert time.monotonic() - started < 3


# --- hostile pages: what a monitor must survive ---------------------------------------------


def test_huge_image_announces_50_mib(shop: DemoShop, client: httpx.Client) -> None:
    shop.faults.enable("huge-image")
    with client.stream("GET", FAULTY_IMAGES[0]) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/webp"
        assert response.headers["content-length"] == str(50 * 1024 * 1024)
        head = next(response.iter_raw())
    assert head.startswith(b"RIFF")  # a real photo first, then the padding
    other = client.get("/images/speckled-mug/1-480.jpg")
    assert int(other.headers["content-length"]) < 1024 * 1024


def test_huge_image_sent_chunked_has_no_length_until_its_end(
    shop: DemoShop, client: httpx.Client
) -> None:
    shop.faults.enable("huge-image", size_mib=3, content_length=0)
    with client.stream("GET", FAULTY_IMAGES[3]) as response:
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
        body = response.read()
    assert len(body) == 3 * 1024 * 1024
    image = Image.open(io.BytesIO(body))  # the photo still decodes: PNG ignores the padding
    assert image.size == (960, 720)


def test_decompression_bomb_is_small_and_huge(shop: DemoShop, client: httpx.Client) -> None:
    shop.faults.enable("decompression-bomb")
    response = client.get("/images/stoneware-bowl/2-480.webp")
    assert response.headers["content-type"] == "image/jpeg"
    assert len(response.content) < 400 * 1024
    with (
        pytest.warns(Image.DecompressionBombWarning),  # Pillow itself calls it a bomb
        Image.open(io.BytesIO(response.content)) as image,  # the header alone: no decoding
    ):
        assert (image.format, image.size) == ("JPEG", (10_000, 10_000))
    assert client.get(FAULTY_IMAGES[0]).headers["content-type"] == "image/webp"


@pytest.mark.parametrize("size", [(10, 6), (64, 64), (100, 30)])
def test_decompression_bomb_is_a_valid_jpeg(size: tuple[int, int]) -> None:
    with Image.open(io.BytesIO(decompression_bomb_jpeg(*size))) as image:
        image.load()  # every block decodes: a real file, not a truncated trick
        assert image.size == size
        assert image.getextrema() == (128, 128)


def test_redirect_loop_ping_pongs_forever(shop: DemoShop, client: httpx.Client) -> None:
    shop.faults.enable("redirect-loop")
    first = client.get("/products/linen-apron")
    second = client.get(first.headers["location"])
    assert (first.status_code, first.headers["location"]) == (302, "/products/linen-apron?looped=1")
    assert (second.status_code, second.headers["location"]) == (302, "/products/linen-apron")
    with pytest.raises(httpx.TooManyRedirects):
        client.get("/products/linen-apron", follow_redirects=True)
    assert client.get("/cart").status_code == 200


def test_redirect_loop_in_boutique(boutique: DemoShop, boutique_client: httpx.Client) -> None:
    boutique.faults.enable("redirect-loop")
    response = boutique_client.get("/shop/speckled-mug")
    assert response.status_code == 302
    assert response.headers["location"] == "/shop/speckled-mug?looped=1"


def test_endless_page_shows_its_top_then_trickles(shop: DemoShop, client: httpx.Client) -> None:
    shop.faults.enable("endless-page", interval_seconds=0.05)
    with client.stream("GET", "/products/speckled-mug") as response:
        assert response.headers["transfer-encoding"] == "chunked"
        chunks = response.iter_raw()
        top = next(chunks)
        assert b'<h1 class="product-title">Speckled Stoneware Mug</h1>' in top
        assert b"</body>" not in top
        assert [next(chunks) for _ in range(3)] == [b"<!-- still loading -->\n"] * 3


def _request_threads() -> int:
    return sum("process_request_thread" in t.name for t in threading.enumerate())


def test_endless_page_ends_when_the_client_leaves_or_the_shop_stops() -> None:
    params = {"endless-page": {"interval_seconds": 0.05}}
    with DemoShop(faults=["endless-page"], fault_params=params) as shop:
        url = f"{shop.shop_url}/products/speckled-mug"
        before = _request_threads()
        with httpx.stream("GET", url) as response:
            next(response.iter_raw())
            assert _request_threads() == before + 1
        deadline = time.monotonic() + 5
        while _request_threads() > before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _request_threads() == before  # the stream saw the client go and ended

        thread = threading.Thread(target=lambda: httpx.get(url, timeout=30), daemon=True)
        thread.start()
        time.sleep(0.3)
    thread.join(timeout=5)
    assert not thread.is_alive()  # stop() ended the stream: the client got its end
