"""`checkout-monitor images baseline`: record the known-good look of every product photo.

The product-images journey later compares each image's perceptual hash with this file, so a
wrong photo swapped in (right size, decodes fine) is still caught.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

from checkout_monitor.browser.allowlist import HostAllowlist
from checkout_monitor.browser.host_fence import HostGuard
from checkout_monitor.browser.launch import ContextFactory, launch_browser
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.errors import CheckoutMonitorError, UsageError
from checkout_monitor.images.page_images import (
    Baseline,
    image_key,
    judge_images,
    rules_from,
    seen_images,
)
from checkout_monitor.reports.atomic_files import write_json
from checkout_monitor.shop.storefront import Storefront
from checkout_monitor.step_failures import classify

_PAGE_SECONDS = 30.0


def which_storefront(loaded: LoadedConfig, named: str | None) -> str:
    """The storefront to record: the one named, or the config's only one."""
    storefronts = loaded.config.storefronts
    name = named or (next(iter(storefronts)) if len(storefronts) == 1 else None)
    if name not in storefronts:
        raise UsageError(
            f"name the storefront to record with --storefront; in {loaded.source}: "
            f"{', '.join(storefronts)}"
        )
    return name


def write_baseline(path: Path, document: dict[str, Any]) -> None:
    try:
        write_json(path, document)
    except OSError as exc:
        raise UsageError(f"could not write the baseline to {path}: {exc}") from None


def baseline_path(loaded: LoadedConfig, storefront: str, output: Path | None) -> Path:
    if output is not None:
        return output
    configured = loaded.config.storefronts[storefront].images.baseline
    if configured is None:
        raise UsageError(
            f"storefront {storefront!r} has no images.baseline file in {loaded.source}; "
            "set one there or pass --output PATH"
        )
    return loaded.base_dir / configured


async def record_baseline(loaded: LoadedConfig, storefront: str) -> dict[str, Any]:
    """Visit the storefront's image pages and return {image path: hash and size}."""
    try:
        return await _record(loaded, storefront)
    except Exception as exc:  # what the shop or the browser did: a plain message, exit 2
        if isinstance(exc, CheckoutMonitorError):
            raise
        kind, message = classify(exc)
        raise UsageError(f"could not record the baseline ({kind.value}): {message}") from None


async def _record(loaded: LoadedConfig, storefront: str) -> dict[str, Any]:
    config = loaded.config
    profile = config.storefronts[storefront]
    images: dict[str, dict[str, Any]] = {}
    broken: list[str] = []
    allowlist = HostAllowlist.for_profile(storefront, profile)
    async with async_playwright() as playwright:
        browser = await launch_browser(playwright, config.browser)
        try:
            context = await ContextFactory(browser, config.browser, config.synthetic).new_context(
                _PAGE_SECONDS, HostGuard(allowlist)
            )
            page = await context.new_page()
            shop = Storefront(page, profile, time_left=lambda: _PAGE_SECONDS)
            for path in await shop.product_pages_from_listing():
                document = await page.goto(profile.url(path), wait_until=profile.navigation_wait)
                seen = await seen_images(page, _PAGE_SECONDS * 1000)
                verdicts = await judge_images(
                    page,
                    seen,
                    rules_from(profile.images),
                    Baseline({}),
                    8,
                    _PAGE_SECONDS * 1000,
                    document.request.headers if document is not None else {},
                    allowlist,
                )
                for verdict in verdicts:
                    if not verdict.ok or verdict.dhash is None:
                        broken.append(f"{verdict.url}: {', '.join(verdict.problems)}")
                        continue
                    images[image_key(verdict.url)] = {
                        "dhash": verdict.dhash,
                        "width": verdict.width,
                        "height": verdict.height,
                        "page": path,
                    }
        finally:
            await browser.close()
    if broken:
        raise UsageError(
            "not recording a baseline while images are broken (fix them first):\n  "
            + "\n  ".join(broken)
        )
    return {
        "version": 1,
        "storefront": storefront,
        "recorded_at": datetime.now(UTC).isoformat(),
        "images": images,
    }
