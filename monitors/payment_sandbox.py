"""The payment provider answers, approves the approve card, declines the declining cards
without creating an order, and runs the 3-D Secure challenge both ways.

Settings: `payment:` in the storefront profile (health_url, max_health_latency,
declining_cards, three_d_secure) and `card:` (the approve card). Checks a shop does not
support (no health endpoint, no card at checkout, no 3-D Secure card, no order API) are
reported as skipped, never passed.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from checkout_monitor import CheckFailed, FailureKind, JourneyRun, journey

if TYPE_CHECKING:  # for the type checker only: `validate` then loads no browser code
    from checkout_monitor import Challenge, Storefront

DECLINED_CHALLENGE = "3-D Secure challenge failed: declined"
CHARGED_AFTER_CHALLENGE = "3-D Secure challenge passed: charged"
NO_THREE_DS = "the profile names no payment.three_d_secure card"


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
            await expect_declined(shop, number, email, name)
            step.note(shop.last_decline)

    three_ds = shop.three_d_secure
    if three_ds is not None:
        async with run.step(DECLINED_CHALLENGE, check="payment_3ds") as step:
            email = shop.profile.customer.tagged_email(f"3ds-{secrets.token_hex(3)}")
            await expect_declined(shop, three_ds.card, email, "3-D Secure", challenge="fail")
            step.note(shop.last_decline)
    else:
        run.skip(DECLINED_CHALLENGE, NO_THREE_DS)

    orders: list[str] = []
    async with run.step("approve card is charged", check="payment_approve") as step:
        order = await shop.checkout_with_card(shop.profile.card.number, expect_decline=False)
        orders += [order] if order else []
        step.note(f"order {order}")

    if three_ds is not None:
        async with run.step(CHARGED_AFTER_CHALLENGE, check="payment_3ds") as step:
            order = await shop.checkout_with_card(
                three_ds.card, expect_decline=False, challenge="complete"
            )
            orders += [order] if order else []
            step.note(f"order {order}")
    else:
        run.skip(CHARGED_AFTER_CHALLENGE, NO_THREE_DS)

    if shop.api.can_cancel_orders and orders:
        async with run.step("cancel test order") as step:
            for order in orders:
                await shop.api.cancel_order(order)
            step.note(f"order {', '.join(orders)} cancelled")


async def expect_declined(
    shop: Storefront, number: str, email: str, name: str, challenge: Challenge | None = None
) -> None:
    """Pay with a card the provider must decline; fail the step if an order came of it."""
    order = await shop.checkout_with_card(
        number, expect_decline=True, email=email, challenge=challenge
    )
    if order is not None:
        if shop.api.can_cancel_orders:
            await shop.api.cancel_order(order)  # never leave a real order behind
        raise CheckFailed(
            FailureKind.ASSERTION, f"the {name} test card was accepted and created order {order}"
        )
    created = await shop.api.count_orders(email)
    if created:
        raise CheckFailed(
            FailureKind.ASSERTION,
            f"the {name} card was declined, yet the order API lists {created} order(s) for {email}",
        )
    checked = "no order created" if created is not None else "no order API to check"
    shop.last_decline = f"{shop.last_decline}; {checked}"
