"""Product page to order confirmation: the path every sale takes.

Copy this file to write your own journey. Everything shop-specific (URLs, selectors,
wording, checkout pages) comes from the storefront profile in your config, so most shops
need no change here at all.
"""

from checkout_monitor import JourneyRun, journey


@journey("product-to-checkout", tags=("checkout",))
async def product_to_checkout(run: JourneyRun) -> None:
    """Buy one product with the sandbox card, then cancel the test order."""
    shop = run.shop

    async with run.step("open product page") as step:
        step.note(await shop.open_product())

    async with run.step("add to cart"):
        await shop.add_to_cart()

    async with run.step("open cart") as step:
        lines = await shop.open_cart()
        step.note(f"{lines} line(s) in the cart")

    async with run.step("go to checkout") as step:
        has_token = await shop.start_checkout()
        step.note("checkout token present" if has_token else "no checkout token configured")

    last = len(shop.checkout_pages) - 1
    for index, page in enumerate(shop.checkout_pages):
        async with run.step(page.step) as step:
            step.note(
                await shop.complete_checkout_page(index, submit=run.place_order or index < last)
            )
    if not run.place_order:
        run.skip("see confirmation", "dry run: no order placed (place_order: false)")
        return

    async with run.step("see confirmation") as step:
        order_number = await shop.read_confirmation()
        step.note(f"order {order_number}")

    # Cancel first: the test order must never be fulfilled, whatever happens next.
    if shop.api.can_cancel_orders:
        async with run.step("cancel test order") as step:
            await shop.api.cancel_order(order_number)
            step.note(f"order {order_number} cancelled")
    else:
        run.skip("cancel test order", "the storefront profile has no order API")

    if has_token and shop.profile.checkout.replay_check:
        async with run.step("refuse stale checkout token", check="checkout_token") as step:
            step.note(await shop.api.replay_stale_token(shop.token_form))
