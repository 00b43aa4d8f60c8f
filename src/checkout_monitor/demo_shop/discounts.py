"""Discount codes, computed server-side so the browser never decides what a code is worth."""

from __future__ import annotations

from dataclasses import dataclass

from .money import format_eur

BIGORDER_MINIMUM_CENTS = 10_000


@dataclass(frozen=True)
class DiscountOutcome:
    """The result of applying a code to a subtotal: accepted with an amount, or refused."""

    code: str
    accepted: bool
    discount_cents: int
    message: str


def _percent_off(subtotal_cents: int, percent: int) -> int:
    # Integer round-half-up to the cent, so 10% of €0.05 is €0.01, never banker's rounding.
    return (subtotal_cents * percent + 50) // 100


def apply_code(raw_code: str, subtotal_cents: int) -> DiscountOutcome:
    """Evaluate a customer-entered code (case-insensitive) against the cart subtotal."""
    code = raw_code.strip().upper()
    if not code:
        return DiscountOutcome(code, False, 0, "Please enter a discount code")
    if code == "SAVE10":
        amount = _percent_off(subtotal_cents, 10)
        return DiscountOutcome(code, True, amount, "Code SAVE10 applied: 10% off your order")
    if code == "TENOFF":
        amount = min(1000, subtotal_cents)
        return DiscountOutcome(code, True, amount, "Code TENOFF applied: €10.00 off your order")
    if code == "BIGORDER15":
        if subtotal_cents < BIGORDER_MINIMUM_CENTS:
            minimum = format_eur(BIGORDER_MINIMUM_CENTS)
            return DiscountOutcome(
                code, False, 0, f"BIGORDER15 needs an order of at least {minimum}"
            )
        amount = _percent_off(subtotal_cents, 15)
        return DiscountOutcome(code, True, amount, "Code BIGORDER15 applied: 15% off your order")
    if code == "SUMMER2023":
        return DiscountOutcome(code, False, 0, "This code expired on 31 August 2023")
    return DiscountOutcome(code, False, 0, "This code is not valid")
