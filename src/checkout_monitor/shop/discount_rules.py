"""Did a discount code do exactly what it should? Judged from what the cart showed."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from checkout_monitor.config.storefront_profile import DiscountCode
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.shop.money import format_money, percent_of, to_minor
from checkout_monitor.step_failures import CheckFailed


@dataclass(frozen=True)
class DiscountOutcome:
    code: str
    accepted: bool
    message: str
    subtotal: int
    total_before: int
    total_after: int
    discount_line_shown: bool


def expected_discount(rule: DiscountCode, subtotal: int, decimals: int) -> int:
    """The amount the code should take off, in minor units, rounded half up."""
    if rule.percent_off is not None:
        return percent_of(subtotal, rule.percent_off)
    amount = to_minor(rule.amount_off or 0, decimals)
    return min(amount, subtotal)


def judge_valid_code(
    rule: DiscountCode, outcome: DiscountOutcome, decimals: int, expect_line: bool
) -> str:
    """A note for the passing step; ``CheckFailed`` with the right kind otherwise."""
    money = functools.partial(format_money, decimals=decimals)
    if not outcome.accepted:
        raise CheckFailed(
            FailureKind.DISCOUNT_REJECTED,
            f'the discount code {rule.code} was refused by the shop: "{outcome.message}"',
        )
    off = expected_discount(rule, outcome.subtotal, decimals)
    expected_total = outcome.total_before - off
    if outcome.total_after != expected_total:
        raise CheckFailed(
            FailureKind.DISCOUNT_WRONG_AMOUNT,
            f"{rule.code} should take {money(off)} off a subtotal of {money(outcome.subtotal)} "
            f"(total {money(outcome.total_before)} -> {money(expected_total)}), but the cart "
            f"shows a total of {money(outcome.total_after)}",
        )
    if expect_line and not outcome.discount_line_shown:
        raise CheckFailed(
            FailureKind.ASSERTION, f"{rule.code} lowered the total, but the cart shows no discount"
        )
    return (
        f"{rule.code}: {money(outcome.total_before)} -> {money(outcome.total_after)} "
        f"({money(off)} off)"
    )


def judge_refused_code(outcome: DiscountOutcome, decimals: int) -> str:
    money = functools.partial(format_money, decimals=decimals)
    if outcome.accepted:
        raise CheckFailed(
            FailureKind.ASSERTION,
            f"the code {outcome.code} should be refused, but the shop accepted it: "
            f'"{outcome.message}" (total {money(outcome.total_before)} -> '
            f"{money(outcome.total_after)})",
        )
    if outcome.total_after != outcome.total_before:
        raise CheckFailed(
            FailureKind.ASSERTION,
            f"{outcome.code} was refused, yet the total changed from "
            f"{money(outcome.total_before)} to {money(outcome.total_after)}",
        )
    return f'{outcome.code} refused: "{outcome.message}"'
