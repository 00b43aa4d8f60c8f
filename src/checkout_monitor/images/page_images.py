"""Collect the images a product page really shows (srcset choice, lazy ones after scrolling),
fetch them with bounds on concurrency, size and time, and judge each one."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from checkout_monitor.browser.allowlist import HostAllowlist
from checkout_monitor.config.storefront_profile import ImageCheck
from checkout_monitor.images.checks import ImageRules, ImageVerdict, SeenImage, judge_image
from checkout_monitor.images.download import (
    DownloadRefused,
    download_image,
    image_client,
    image_headers,
)

_SCROLL_THROUGH = """async () => {
  // Two frames let the lazy-load observer see the new position and start the loads
  // (~30 ms); 60 ms is the most a page that draws no frames waits, as before.
  const pause = () => new Promise(r => {
    const timer = setTimeout(r, 60);
    requestAnimationFrame(() => requestAnimationFrame(() => { clearTimeout(timer); r(); }));
  });
  const limit = 40 * window.innerHeight;  // endless feeds: look at 40 screens, no more
  for (let y = 0; y < Math.min(document.documentElement.scrollHeight, limit);
       y += window.innerHeight) {
    window.scrollTo(0, y);
    await pause();
  }
  window.scrollTo(0, Math.min(document.documentElement.scrollHeight, limit));
  await pause();
}"""
_ALL_LOADED = "() => Array.from(document.images).every(i => i.complete)"
_SEEN = """() => Array.from(document.images).map(i => ({
  url: i.currentSrc || i.src, width: i.naturalWidth, height: i.naturalHeight,
  alt: i.getAttribute('alt')
})).filter(i => /^https?:/.test(i.url))"""


def rules_from(check: ImageCheck) -> ImageRules:
    return ImageRules(
        min_width=check.min_width,
        min_height=check.min_height,
        max_bytes=check.max_kib * 1024 if check.max_kib else None,
        require_alt=check.require_alt,
        max_hash_distance=check.max_hash_distance,
        max_download_bytes=check.max_download_mib * 1024 * 1024,
    )


def image_key(url: str) -> str:
    """Baselines are keyed by path, so one file serves staging and production hosts."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class Baseline:
    hashes: Mapping[str, str]

    @classmethod
    def load(cls, path: Path | None) -> Baseline:
        if path is None or not path.is_file():
            return cls({})
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return cls({key: entry["dhash"] for key, entry in document.get("images", {}).items()})

    def get(self, url: str) -> str | None:
        return self.hashes.get(image_key(url))


async def seen_images(page: Page, timeout_ms: float) -> list[SeenImage]:
    """Scroll through the page so lazy images load, then read what the browser shows."""
    await page.evaluate(_SCROLL_THROUGH)
    with contextlib.suppress(PlaywrightError):  # one that never finishes is judged below
        await page.wait_for_function(_ALL_LOADED, timeout=timeout_ms)
    raw: list[dict[str, Any]] = await page.evaluate(_SEEN)
    unique: dict[str, SeenImage] = {}
    for item in raw:
        unique.setdefault(
            item["url"],
            SeenImage(item["url"], int(item["width"]), int(item["height"]), item["alt"]),
        )
    return list(unique.values())


async def judge_images(
    page: Page,
    images: list[SeenImage],
    rules: ImageRules,
    baseline: Baseline,
    concurrency: int,
    timeout_ms: float,
    headers: Mapping[str, str],
    allowlist: HostAllowlist | None = None,
) -> list[ImageVerdict]:
    """Fetch every image as the page's browser would (``headers``: those it sent for the
    page; the context's cookies; only from ``allowlist``'s hosts), none read past
    ``rules.max_download_bytes``; judge each."""
    gate = asyncio.Semaphore(concurrency)
    asked = image_headers(headers or await _browser_identity(page), page.url)
    timeout = timeout_ms / 1000

    async def one(client: httpx.AsyncClient, seen: SeenImage) -> ImageVerdict:
        async with gate:
            cookies = await page.context.cookies([seen.url])
            cookie = "; ".join(f"{c['name']}={c['value']}" for c in cookies)
            fetched = await download_image(
                client,
                seen.url,
                {**asked, "cookie": cookie} if cookie else asked,
                max_bytes=rules.max_download_bytes,
                timeout_seconds=timeout,
            )
        if isinstance(fetched, DownloadRefused):
            return ImageVerdict(seen.url, problems=[fetched.problem])
        return await asyncio.to_thread(judge_image, seen, fetched, rules, baseline.get(seen.url))

    async with image_client(concurrency, timeout, allowlist) as client:
        return list(await asyncio.gather(*(one(client, seen) for seen in images)))


async def _browser_identity(page: Page) -> dict[str, str]:
    """The user agent, for a page whose own request headers are unknown (no navigation)."""
    return {"user-agent": await page.evaluate("() => navigator.userAgent")}
