"""The delivery options the shop offers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShippingMethod:
    """One delivery option with its price and promised speed."""

    code: str
    label: str
    price_cents: int
    eta: str


SHIPPING_METHODS: dict[str, ShippingMethod] = {
    "standard": ShippingMethod("standard", "Standard delivery", 490, "3-5 working days"),
    "express": ShippingMethod("express", "Express delivery", 1200, "next working day"),
}
