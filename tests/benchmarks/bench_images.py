"""Image checking throughput: 100 product images on loopback, fetched and judged
(HTTP, type, full decode, size, blankness, perceptual hash) with bounded concurrency,
compared with one at a time, and with the page itself fetching and decoding the same
images (`fetch` + `createImageBitmap`, all at once): the floor a browser sets. Prints
figures and ratios; asserts nothing about time.

    .venv/bin/python tests/benchmarks/bench_images.py
"""

from __future__ import annotations

import asyncio
import time

from playwright.async_api import async_playwright

from checkout_monitor.browser.launch import launch_browser
from checkout_monitor.config.model import BrowserConfig
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.demo_shop.catalogue import PRODUCTS
from checkout_monitor.demo_shop.images import IMAGE_FORMATS, WIDTHS, image_url
from checkout_monitor.images.checks import ImageRules, SeenImage
from checkout_monitor.images.page_images import Baseline, judge_images

COUNT = 100
_IN_PAGE = """async (urls) => {
  const decoded = await Promise.all(urls.map(async (url) => {
    const response = await fetch(url, {cache: "no-store"});
    const bitmap = await createImageBitmap(await response.blob());
    const ok = response.ok && bitmap.width > 0;
    bitmap.close();
    return ok;
  }));
  return decoded.every(Boolean);
}"""


async def main() -> None:
    with DemoShop() as shop:
        variants = [
            image_url(p.slug, index, width, ext)
            for p in PRODUCTS
            for index, formats in IMAGE_FORMATS.items()
            for ext in formats
            for width in WIDTHS
        ]
        # distinct URLs (a query string the shop ignores), so nothing is served from a cache
        seen = [
            SeenImage(f"{shop.shop_url}{variants[i % len(variants)]}?n={i}", 480, 360, "photo")
            for i in range(COUNT)
        ]
        async with async_playwright() as playwright:
            browser = await launch_browser(playwright, BrowserConfig())
            context = await browser.new_context()
            page = await context.new_page()
            # warm-up: the demo shop renders each image once on first request
            await judge_images(
                page, seen[: len(variants)], ImageRules(), Baseline({}), 8, 30_000, {}
            )
            print(f"{COUNT} images ({len(variants)} distinct JPEG/PNG/WebP files) on loopback")
            rates: dict[str, float] = {}
            for concurrency in (1, 8):
                start = time.perf_counter()
                verdicts = await judge_images(
                    page, seen, ImageRules(), Baseline({}), concurrency, 30_000, {}
                )
                took = time.perf_counter() - start
                assert all(v.ok for v in verdicts), [v.problems for v in verdicts if not v.ok]
                rates[f"checked, {concurrency} at a time"] = COUNT / took
            await page.goto(shop.shop_url)  # same origin: the page may fetch the images
            start = time.perf_counter()
            assert await page.evaluate(_IN_PAGE, [image.url + "&page" for image in seen])
            rates["fetched + decoded in the page"] = COUNT / (time.perf_counter() - start)
            await browser.close()
    for name, rate in rates.items():
        print(f"  {name:<30} {rate:6.1f} images/s")
    ratio = rates["checked, 8 at a time"] / rates["fetched + decoded in the page"]
    print(f"  ratio (checked 8 at a time / in the page): {ratio:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
