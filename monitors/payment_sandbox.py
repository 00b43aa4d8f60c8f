"""The payment provider answers, approves the approve card, and declines the declining
cards without creating an order.

Settings: `payment:` in the storefront profile (health_url, max_health_latency,
declining_cards) and `card:` (the approve card). Checks a shop does not support (no health
endpoint, no card at checkout, no order API) are reported as skipped, never passed.
"""

import secrets

from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.journey import JourneyRun, journey
from checkout_monitor.step_failures import CheckFailed


@journey("payment-sandbox", tags=("payment",))
async def payment_sandbox(run: JourneyRun) -> None:
    """Provider health, declines that create no order, and an approved test order."""
    shop = run.shop
    payment = shop.profile.payment

    if payment.health_url:
        async with run.step("payment provider health", check="payment_health") as step:
            step.note(await shop.api.check_provider_health())
    else:
        run.skip("payment provider health", "the profile names no payment.health_url")

    if not shop.profile.takes_card:
        run.skip("card payments", "this checkout takes no card (no {card.number} field)")
        return

    if not run.place_order:
        run.skip("card payments", "dry run: no payment is submitted (place_order: false)")
        return

    for name, number in payment.declining_cards.items():
        async with run.step(f"{name} card is declined", check="payment_decline") as step:
            # A plus-address of our own: other journeys buying at the same time use the
            # plain one, so any order listed under this address came from this decline.
            email = shop.profile.customer.tagged_email(f"{name}-{secrets.token_hex(3)}")
            order = await shop.checkout_with_card(number, expect_decline=True, email=email)
            if order is not None:
                if shop.api.can_cancel_orders:
                    await shop.api.cancel_order(order)  # never leave a real order behind
                raise CheckFailed(
                    FailureKind.ASSERTION,
                    f"the {name} test card was accepted and created order {order}",
                )
            created = await shop.api.count_orders(email)
            if created:
                raise CheckFailed(
                    FailureKind.ASSERTION,
                    f"the {name} card was declined, yet the order API lists {created} "
                    f"order(s) for {email}",
                )
            checked = "no order created" if created is not None else "no order API to check"
            step.note(f"{shop.last_decline}; {checked}")

    async with run.step("approve card is charged", check="payment_approve") as step:
        order = await shop.checkout_with_card(shop.profile.card.number, expect_decline=False)
        step.note(f"order {order}")
    if shop.api.can_cancel_orders and order is not None:
        async with run.step("cancel test order") as step:
            await shop.api.cancel_order(order)
            step.note(f"order {order} cancelled")
