"""Image downloads for the image check, against the real demo shop over loopback: the size
limit before and during the read, error pages left unread, the allowed hosts, the headers.

The shop runs in its own process (`checkout-monitor demo-shop`), so this process's traced
memory is the downloader's alone.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest

from checkout_monitor.browser.allowlist import HostAllowlist
from checkout_monitor.images.checks import FetchedImage
from checkout_monitor.images.download import (
    DownloadRefused,
    download_image,
    image_client,
    image_headers,
    mib,
)
from support.alert_receivers import AlertReceiver
from support.cli_support import BIN, REPO
from support.memory_peak import with_peak_memory
from support.prometheus_servers import free_port, wait_until

MIB = 1024 * 1024
PHOTO = "/images/speckled-mug/2-480.webp"  # the photo the image faults hit
TOKEN = "test-admin-token"


def fetch(
    url: str,
    *,
    max_bytes: int = 4 * MIB,
    allowlist: HostAllowlist | None = None,
    headers: dict[str, str] | None = None,
) -> FetchedImage | DownloadRefused:
    async def main() -> FetchedImage | DownloadRefused:
        async with image_client(2, 10, allowlist) as client:
            return await download_image(
                client, url, headers or {}, max_bytes=max_bytes, timeout_seconds=10
            )

    return asyncio.run(main())


@dataclass(frozen=True)
class ShopProcess:
    shop_url: str

    def fault(self, name: str, **params: float) -> None:
        """Switch a fault on through the shop's admin API."""
        httpx.post(
            f"{self.shop_url}/admin/faults/{name}",
            json=params,
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).raise_for_status()


@pytest.fixture(scope="module")
def shop_process() -> Iterator[ShopProcess]:
    port = free_port()
    args = ["demo-shop", "--port", str(port), "--sandbox-port", str(free_port())]
    process = subprocess.Popen(
        [str(BIN / "checkout-monitor"), *args, "--admin-token", TOKEN],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/healthz").status_code == 200, 30, "the demo shop")
        yield ShopProcess(url)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


@pytest.fixture
def shop(shop_process: ShopProcess) -> Iterator[ShopProcess]:
    yield shop_process
    for name in ("huge-image", "broken-image", "redirect-loop"):  # the next test: a healthy shop
        httpx.delete(
            f"{shop_process.shop_url}/admin/faults/{name}",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).raise_for_status()


def test_an_intact_photo_is_read_whole(shop: ShopProcess) -> None:
    fetched = fetch(shop.shop_url + PHOTO)
    assert isinstance(fetched, FetchedImage)
    assert (fetched.status, fetched.content_type) == (200, "image/webp")
    assert fetched.body.startswith(b"RIFF")


def test_a_declared_size_over_the_limit_is_not_read_at_all(shop: ShopProcess) -> None:
    shop.fault("huge-image")
    refused, peak = with_peak_memory(lambda: fetch(shop.shop_url + PHOTO))
    assert refused == DownloadRefused(
        "is 50 MiB, over the download limit of 4 MiB (images.max_download_mib): not downloaded"
    )
    assert peak < MIB  # the headers, and nothing of the body


def test_an_undeclared_size_is_read_up_to_the_limit_only(shop: ShopProcess) -> None:
    shop.fault("huge-image", content_length=0)
    refused, peak = with_peak_memory(lambda: fetch(shop.shop_url + PHOTO))
    assert refused == DownloadRefused(
        "is larger than 4 MiB (no Content-Length said how large), over the download limit "
        "of 4 MiB (images.max_download_mib): stopped reading there"
    )
    assert 4 * MIB <= peak < 5 * MIB  # the limit, and at most one chunk more


def test_just_under_the_limit_is_fine(shop: ShopProcess) -> None:
    shop.fault("huge-image", size_mib=3, content_length=0)
    fetched = fetch(shop.shop_url + PHOTO)
    assert isinstance(fetched, FetchedImage)
    assert len(fetched.body) == 3 * MIB


def test_error_pages_are_judged_unread(shop: ShopProcess) -> None:
    shop.fault("broken-image")
    assert fetch(shop.shop_url + PHOTO) == FetchedImage(404, "text/html; charset=utf-8", b"")
    page = fetch(shop.shop_url + "/products/speckled-mug")
    assert page == FetchedImage(200, "text/html; charset=utf-8", b"")


def test_a_host_not_allowed_is_never_asked(shop: ShopProcess) -> None:
    elsewhere = HostAllowlist.from_entries("shop", ["cdn.example.com"])
    shop_host = urlsplit(shop.shop_url).netloc
    assert fetch(shop.shop_url + PHOTO, allowlist=elsewhere) == DownloadRefused(
        f"not fetched: its host {shop_host} is not in storefronts.shop.allowed_hosts: "
        "add it there if it is yours"
    )
    here = HostAllowlist.from_entries("shop", [shop_host])
    assert isinstance(fetch(shop.shop_url + PHOTO, allowlist=here), FetchedImage)


def test_an_image_redirecting_forever_is_refused(shop: ShopProcess) -> None:
    shop.fault("redirect-loop")  # product pages loop; an <img> could point at one
    refused = fetch(shop.shop_url + "/products/speckled-mug")
    assert refused == DownloadRefused(
        "could not be fetched: it redirects endlessly (more than 10 redirects)"
    )


def test_the_request_says_who_asks_as_the_browser_did() -> None:
    page_headers = {
        "user-agent": "Mozilla/5.0 Chrome/156 checkout-monitor/0.1.0 (synthetic)",
        "x-synthetic-monitor": "checkout-monitor",
        "accept-language": "en-GB",
        "upgrade-insecure-requests": "1",
        "sec-ch-ua-mobile": "?0",
    }
    with AlertReceiver() as receiver:  # any HTTP server that records what it got
        fetch(f"{receiver.url}/photo.jpg", headers=image_headers(page_headers, "http://shop/p"))
        (request,) = receiver.requests
    assert request.header("user-agent") == page_headers["user-agent"]
    assert request.header("x-synthetic-monitor") == "checkout-monitor"
    assert request.header("accept-language") == "en-GB"
    assert request.header("sec-ch-ua-mobile") == "?0"
    assert request.header("referer") == "http://shop/p"
    assert request.header("accept-encoding") == "identity"
    assert (request.header("accept") or "").startswith("image/avif,image/webp")
    assert request.header("upgrade-insecure-requests") is None


@pytest.mark.parametrize(
    ("size", "shown"), [(50 * MIB, "50 MiB"), (16 * MIB + MIB // 2, "16.5 MiB"), (MIB, "1 MiB")]
)
def test_sizes_read_as_people_write_them(size: int, shown: str) -> None:
    assert mib(size) == shown
