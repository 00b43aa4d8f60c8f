"""What a person would write by hand with Playwright: `product-to-checkout` on the demo shop.

The same clicks, fields and waits as the journey with the built-in `demo` profile (the
classic theme) and `place_order: true`, then the same two requests after the order: cancel
it through the order API, and post the checkout form again with its stale token (the shop
must refuse it). Hard-coded, and without checkout_monitor: `bench_startup.py` times this
whole process against `run-smoke`. Exits 0 when the journey went through, 1 otherwise.

    .venv/bin/python tests/benchmarks/bare_checkout.py SHOP_URL --admin-token TOKEN
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from playwright.sync_api import Error, sync_playwright

# Copied from checkout_monitor.browser.launch.LAUNCH_FLAGS: the same browser, started alike.
LAUNCH_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEP_TIMEOUT_MS = 5000
# The checkout token's form as it was, fields and all: what the journey replays.
READ_FORM = """e => {
  const form = e.form || e.closest('form');
  return {
    action: form.action,
    method: form.getAttribute('method') || 'post',
    fields: Array.from(new FormData(form).entries()).filter(([, v]) => typeof v === 'string'),
  };
}"""


def chromium() -> str | None:
    """$CHECKOUT_MONITOR_CHROMIUM, else /usr/bin/chromium, else Playwright's own (None):
    the browser run-smoke picks on this machine."""
    configured = os.environ.get("CHECKOUT_MONITOR_CHROMIUM")
    if configured:
        return configured
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def checkout(base: str, admin_token: str) -> str:
    """Buy one mug with the sandbox card, cancel the order; return its number."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(), headless=True, args=LAUNCH_FLAGS
        )
        context = browser.new_context(
            extra_http_headers={"X-Synthetic-Monitor": "bare-playwright"},
            viewport={"width": 1280, "height": 800},
            locale="en-GB",
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        context.set_default_navigation_timeout(STEP_TIMEOUT_MS)
        page = context.new_page()

        page.goto(f"{base}/products/speckled-mug", wait_until="load")
        page.locator("h1.product-title").wait_for()
        page.click("#add-to-cart")
        page.locator('#cart-notice:has-text("Added to your cart")').wait_for(state="attached")

        page.goto(f"{base}/cart", wait_until="load")
        page.locator("tr.cart-line").first.wait_for()

        page.click("a#checkout-button")
        page.locator("form#address-form").wait_for(state="attached")
        form = page.locator("input[name=checkout_token]").first.evaluate(READ_FORM)

        page.fill("#email", "synthetic-monitor@example.com")
        page.fill("#full_name", "Synthetic Monitor")
        page.fill("#address1", "1 Test Street")
        page.fill("#city", "London")
        page.fill("#postcode", "SW1A 1AA")
        page.select_option("#country", "GB")
        page.click("#continue-to-shipping")
        page.locator("form#shipping-form").wait_for(state="attached")

        page.check("input[name=shipping_method][value=standard]")
        page.click("#continue-to-payment")
        page.locator("form#payment-form").wait_for(state="attached")

        page.fill("#card_number", "4242424242424242")
        page.fill("#card_expiry", "12/34")
        page.fill("#card_cvc", "123")
        page.fill("#card_name", "Synthetic Monitor")
        page.click("#pay-now")
        page.locator(".order-number").wait_for(state="attached")
        number = page.locator(".order-number").first.inner_text().strip()

        cancelled = context.request.post(
            f"{base}/api/orders/{number}/cancel",
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        if not cancelled.ok:
            raise RuntimeError(f"cancelling {number} answered HTTP {cancelled.status}")
        replayed = context.request.fetch(
            form["action"],
            method=form["method"].upper(),
            form=dict(form["fields"]),
            max_redirects=0,
        )
        if replayed.status < 400:
            raise RuntimeError(f"the stale checkout token was accepted (HTTP {replayed.status})")

        context.close()
        browser.close()
    return number


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shop_url", help="the demo shop, e.g. http://127.0.0.1:8080")
    parser.add_argument("--admin-token", required=True, help="the shop's order API token")
    args = parser.parse_args()
    try:
        number = checkout(args.shop_url.rstrip("/"), args.admin_token)
    except (Error, RuntimeError) as exc:
        print(f"bare checkout failed: {exc}", file=sys.stderr)
        return 1
    print(f"order {number} placed and cancelled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
