"""Collect the images a product page really shows (srcset choice, lazy ones after scrolling),
fetch them with a bound on concurrency, and judge each one."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from checkout_monitor.image_checks import (
    FetchedImage,
    ImageRules,
    ImageVerdict,
    SeenImage,
    judge_image,
)
from checkout_monitor.quoting import first_line
from checkout_monitor.storefront_profile import ImageCheck

_SCROLL_THROUGH = """async () => {
  const pause = () => new Promise(r => setTimeout(r, 60));
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
) -> list[ImageVerdict]:
    """Fetch every image (cookies and synthetic headers of the page's context) and judge it."""
    gate = asyncio.Semaphore(concurrency)

    async def one(seen: SeenImage) -> ImageVerdict:
        async with gate:
            try:
                response = await page.context.request.get(seen.url, timeout=timeout_ms)
                fetched = FetchedImage(
                    response.status, response.headers.get("content-type", ""), await response.body()
                )
            except PlaywrightError as exc:
                problem = f"could not be fetched ({first_line(exc.message)})"
                return ImageVerdict(seen.url, problems=[problem])
        return await asyncio.to_thread(judge_image, seen, fetched, rules, baseline.get(seen.url))

    return list(await asyncio.gather(*(one(seen) for seen in images)))
