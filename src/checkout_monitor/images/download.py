"""Download product images with memory and time bounded, as the browser would ask for them.

Playwright's request API reads a whole body into memory (and copies it into this process),
whatever its size; a shop serving a 2 GB "photo" would take the agent down with it. httpx
streams: the Content-Length is checked before any byte is read, and a body without one is
read only up to the limit. It sends the headers the browser sent for the page (user agent,
synthetic marking, language) and the browser context's cookies for each image's URL.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from checkout_monitor.browser.allowlist import HostAllowlist, HostNotAllowedError
from checkout_monitor.images.checks import FetchedImage
from checkout_monitor.text.quoting import first_line

MIB = 1024 * 1024
# What Chromium asks for when it loads an <img>: CDNs choose the format from it.
IMAGE_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
# Headers of the page's request that are about that request, not about who is asking.
_NOT_COPIED = frozenset(
    {
        "accept",
        "accept-encoding",
        "connection",
        "content-length",
        "content-type",
        "cookie",
        "host",
        "origin",
        "range",
        "referer",
        "upgrade-insecure-requests",
    }
)
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class DownloadRefused:
    """Why an image was not (fully) downloaded, in words for the report."""

    problem: str


def mib(size: int) -> str:
    """'50 MiB', '16.5 MiB': sizes as people read them."""
    return f"{size / MIB:.1f}".removesuffix(".0") + " MiB"


def image_headers(page_headers: Mapping[str, str], referer: str) -> dict[str, str]:
    """The headers to fetch an image with: who the browser said it was, asking for an image
    from ``referer`` in one piece (identity: the byte count is the file's size)."""
    copied = {
        name: value
        for name, value in page_headers.items()
        if name.lower() not in _NOT_COPIED and not name.lower().startswith(("sec-fetch-", "if-"))
    }
    return {**copied, "accept": IMAGE_ACCEPT, "accept-encoding": "identity", "referer": referer}


def image_client(
    concurrency: int, timeout_seconds: float, allowlist: HostAllowlist | None = None
) -> httpx.AsyncClient:
    """One client per page check: connections reused, certificates checked against the
    system's trust store (the one Chromium uses), no proxy or .netrc from the environment;
    with ``allowlist``, no request or redirect hop leaves the storefront's allowed hosts."""
    hooks = {"request": [allowlist.check_request]} if allowlist is not None else {}
    return httpx.AsyncClient(
        event_hooks=hooks,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(timeout_seconds),
        limits=httpx.Limits(max_connections=concurrency),
        verify=_trust_store(),
        trust_env=False,
    )


@functools.cache
def _trust_store() -> ssl.SSLContext:
    """The system's certificates, loaded once (15 ms each time): every page check of every
    journey shares this read-only context."""
    return ssl.create_default_context()


async def download_image(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    *,
    max_bytes: int,
    timeout_seconds: float,
) -> FetchedImage | DownloadRefused:
    """The image's answer, its body read only when it is a 200 image under ``max_bytes``."""
    try:
        async with asyncio.timeout(timeout_seconds):
            return await _download(client, url, headers, max_bytes)
    except TimeoutError:
        return DownloadRefused(
            f"could not be fetched: still arriving after {timeout_seconds:.3g}s, given up"
        )
    except HostNotAllowedError as exc:
        return DownloadRefused(f"not fetched: {exc}")
    except httpx.TooManyRedirects:
        return DownloadRefused(
            f"could not be fetched: it redirects endlessly (more than {MAX_REDIRECTS} redirects)"
        )
    except httpx.HTTPError as exc:
        said = first_line(str(exc)) or type(exc).__name__
        return DownloadRefused(f"could not be fetched ({said})")


async def _download(
    client: httpx.AsyncClient, url: str, headers: Mapping[str, str], max_bytes: int
) -> FetchedImage | DownloadRefused:
    limit = f"over the download limit of {mib(max_bytes)} (images.max_download_mib)"
    async with client.stream("GET", url, headers=headers) as response:
        content_type = response.headers.get("content-type", "")
        if response.status_code != 200 or not content_type.lower().startswith("image/"):
            # judged on status and type alone: an error page's body is not worth reading
            return FetchedImage(response.status_code, content_type, b"")
        declared = _content_length(response)
        if declared is not None and declared > max_bytes:
            return DownloadRefused(f"is {mib(declared)}, {limit}: not downloaded")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            if len(body) + len(chunk) > max_bytes:
                return DownloadRefused(
                    f"is larger than {mib(max_bytes)} (no Content-Length said how large), "
                    f"{limit}: stopped reading there"
                )
            body += chunk
        return FetchedImage(response.status_code, content_type, bytes(body))


def _content_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None
