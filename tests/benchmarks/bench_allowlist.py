"""What fencing the browser to the allowed hosts costs: the same checkout clicks in a plain
context, in one fenced by the proxy setting checkout-monitor uses, and in one fenced by
``context.route`` (the alternative it does not use: every request pauses for the driver,
HTTP caching is off, and redirect hops are never routed).

Runs alternate so drift on a noisy machine hits all three alike. Prints figures and ratios
measured in the same run; it asserts nothing about time.

    .venv/bin/python tests/benchmarks/bench_allowlist.py [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
from collections.abc import Awaitable, Callable

from alternating import time_rotating
from playwright.async_api import Browser, BrowserContext, Route, async_playwright

from checkout_monitor.browser.allowlist import HostAllowlist
from checkout_monitor.browser.host_fence import HostGuard
from checkout_monitor.browser.launch import launch_browser
from checkout_monitor.config.model import BrowserConfig
from checkout_monitor.demo_shop import DemoShop

NewContext = Callable[[Browser], Awaitable[BrowserContext]]


async def checkout(context: BrowserContext, base: str) -> None:
    """product-to-checkout's clicks on the demo shop's classic theme, up to the order."""
    page = await context.new_page()
    await page.goto(f"{base}/products/speckled-mug")
    await page.click("#add-to-cart")
    await page.locator('#cart-notice:has-text("Added to your cart")').wait_for()
    await page.goto(f"{base}/cart")
    await page.click("a#checkout-button")
    for field, value in (
        ("#email", "synthetic-monitor@example.com"),
        ("#full_name", "Synthetic Monitor"),
        ("#address1", "1 Test Street"),
        ("#city", "London"),
        ("#postcode", "SW1A 1AA"),
    ):
        await page.fill(field, value)
    await page.click("#continue-to-shipping")
    await page.check("input[name=shipping_method][value=standard]")
    await page.click("#continue-to-payment")
    for field, value in (
        ("#card_number", "4242424242424242"),
        ("#card_expiry", "12/34"),
        ("#card_cvc", "123"),
        ("#card_name", "Synthetic Monitor"),
    ):
        await page.fill(field, value)
    await page.click("#pay-now")
    await page.locator(".order-number").wait_for()
    await context.close()


def variants(allowlist: HostAllowlist) -> dict[str, NewContext]:
    async def plain(browser: Browser) -> BrowserContext:
        return await browser.new_context()

    async def proxy_fence(browser: Browser) -> BrowserContext:
        return await browser.new_context(proxy=HostGuard(allowlist).proxy)

    async def route_fence(browser: Browser) -> BrowserContext:
        context = await browser.new_context()
        hosts = "|".join(re.escape(host) for host in sorted(allowlist.hosts))
        others = re.compile(rf"^https?://(?!(?:{hosts})(?::\d+)?(?:[/?#]|$))")

        async def block(route: Route) -> None:
            await route.abort("blockedbyclient")

        await context.route(others, block)  # only other hosts reach Python
        return context

    return {
        "no fence": plain,
        "proxy fence (used)": proxy_fence,
        "context.route fence": route_fence,
    }


async def main(runs: int) -> None:
    with DemoShop() as shop:
        allowlist = HostAllowlist.from_entries("demo", ["127.0.0.1"])
        cases = variants(allowlist)
        async with async_playwright() as playwright:
            browser = await launch_browser(playwright, BrowserConfig())

            def run(new_context: NewContext) -> Callable[[], Awaitable[None]]:
                async def one() -> None:
                    await checkout(await new_context(browser), shop.shop_url)

                return one

            timings = await time_rotating(
                [(name, run(new_context)) for name, new_context in cases.items()], runs
            )
            await browser.close()

    base = statistics.median(timings["no fence"])
    print(f"checkout clicks on the demo shop, {runs} runs each, fresh context per run")
    for name, values in timings.items():
        median = statistics.median(values)
        print(
            f"  {name:<22} median {median * 1000:6.0f} ms   min {min(values) * 1000:6.0f} ms"
            f"   ratio to no fence {median / base:.3f}x"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
