"""Monitor overhead: `product-to-checkout` through our runner vs a bare Playwright script.

Both drive the same Chromium against the same demo shop, doing the same clicks, each run
in a fresh context; runs alternate so drift on a noisy machine hits both alike. Prints
figures and the ratio (goal: at most 1.10x, aiming for 1.05x); it asserts nothing about
time.

    .venv/bin/python tests/benchmarks/bench_overhead.py [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from alternating import time_rotating
from playwright.async_api import Browser, async_playwright

from checkout_monitor.browser.launch import ContextFactory, launch_browser
from checkout_monitor.config.demo import demo_config
from checkout_monitor.config.model import BrowserConfig
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.run.monitors_loader import default_monitors_dir, load_monitors
from checkout_monitor.run.plan import plan_journeys
from checkout_monitor.run.runner import JourneyRunner


async def bare_script(browser: Browser, shop: DemoShop) -> None:
    """What a person would write by hand with Playwright for the same journey."""
    context = await browser.new_context(
        user_agent="bench", extra_http_headers={"X-Synthetic-Monitor": "bench"}
    )
    page = await context.new_page()
    base = shop.shop_url
    await page.goto(f"{base}/products/speckled-mug")
    await page.locator("h1.product-title").wait_for()
    await page.click("#add-to-cart")
    await page.locator('#cart-notice:has-text("Added to your cart")').wait_for()
    await page.goto(f"{base}/cart")
    await page.locator("tr.cart-line").first.wait_for()
    await page.click("a#checkout-button")
    await page.locator("form#address-form").wait_for(state="attached")
    await page.fill("#email", "synthetic-monitor@example.com")
    await page.fill("#full_name", "Synthetic Monitor")
    await page.fill("#address1", "1 Test Street")
    await page.fill("#city", "London")
    await page.fill("#postcode", "SW1A 1AA")
    await page.select_option("#country", "GB")
    await page.click("#continue-to-shipping")
    await page.locator("form#shipping-form").wait_for(state="attached")
    await page.check("input[name=shipping_method][value=standard]")
    await page.click("#continue-to-payment")
    await page.locator("form#payment-form").wait_for(state="attached")
    await page.fill("#card_number", "4242424242424242")
    await page.fill("#card_expiry", "12/34")
    await page.fill("#card_cvc", "123")
    await page.fill("#card_name", "Synthetic Monitor")
    await page.click("#pay-now")
    number = (await page.locator(".order-number").inner_text()).strip()
    response = await context.request.post(
        f"{base}/api/orders/{number}/cancel",
        headers={"Authorization": f"Bearer {shop.admin_token}"},
    )
    assert response.ok, response.status
    await context.close()


async def main(runs: int) -> None:
    with DemoShop() as shop:
        loaded = demo_config(shop)
        (planned,) = plan_journeys(
            loaded, load_monitors(default_monitors_dir()), ["product-to-checkout"]
        )
        async with async_playwright() as playwright:
            browser = await launch_browser(playwright, BrowserConfig())
            runner = JourneyRunner(
                ContextFactory(browser, loaded.config.browser, loaded.config.synthetic), "bench"
            )

            async def ours() -> None:
                result = await runner.run(planned)
                assert result.ok, result.steps

            async def bare() -> None:
                await bare_script(browser, shop)

            timings = await time_rotating(
                [("bare Playwright", bare), ("checkout-monitor", ours)], runs
            )
            await browser.close()

    print(f"product-to-checkout on the demo shop, {runs} runs each, fresh context per run")
    for name, values in timings.items():
        print(
            f"  {name:<17} median {statistics.median(values) * 1000:7.0f} ms   "
            f"mean {statistics.mean(values) * 1000:7.0f} ms   "
            f"min {min(values) * 1000:7.0f} ms"
        )
    ratio = statistics.median(timings["checkout-monitor"]) / statistics.median(
        timings["bare Playwright"]
    )
    print(f"  ratio (median, ours / bare): {ratio:.3f}x   goal: <= 1.10x (aim: 1.05x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    asyncio.run(main(parser.parse_args().runs))
