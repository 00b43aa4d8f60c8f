"""Discount codes still work, take off exactly what they should, and bad ones are refused.

Codes live under `discounts:` in the storefront profile: `valid` (percent_off or
amount_off, optional min_order) and `must_reject` (expired or unknown codes).
Each code is tried in a fresh cart, as a new shopper would.
"""

from checkout_monitor import JourneyRun, journey, judge_refused_code, judge_valid_code, to_minor


@journey("discount-codes", tags=("discounts",))
async def discount_codes(run: JourneyRun) -> None:
    """Apply every configured code in a fresh cart and check the total."""
    shop = run.shop
    discounts = shop.profile.discounts
    if discounts is None:
        run.skip("discount codes", "the storefront profile has no discounts section")
        return
    decimals = discounts.currency_decimals
    for rule in discounts.valid:
        async with run.step(f"apply {rule.code}", check="discount") as step:
            minimum = to_minor(rule.min_order, decimals) if rule.min_order else None
            await shop.start_fresh_cart(minimum)
            outcome = await shop.apply_discount(rule.code)
            step.note(
                judge_valid_code(rule, outcome, decimals, discounts.discount_line is not None)
            )
    for code in discounts.must_reject:
        async with run.step(f"refuse {code}", check="discount") as step:
            await shop.start_fresh_cart()
            step.note(judge_refused_code(await shop.apply_discount(code), decimals))
