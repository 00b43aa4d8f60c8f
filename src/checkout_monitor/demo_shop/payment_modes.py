"""How the shop takes cards, and what it may lay over its pages: chosen when it starts."""

from __future__ import annotations

from collections.abc import Iterable

# form: the shop's own card inputs; hosted-fields: the provider's iframes on the shop's
# page; redirect: the provider's hosted payment page and back.
PAYMENT_MODES: tuple[str, ...] = ("form", "hosted-fields", "redirect")
OVERLAYS: tuple[str, ...] = ("cookie-banner", "newsletter")


def check_payment_mode(mode: str) -> None:
    """Raise ValueError naming every valid payment mode when `mode` is not one of them."""
    if mode not in PAYMENT_MODES:
        raise ValueError(
            f"unknown payment mode {mode!r}; valid payment modes: {', '.join(PAYMENT_MODES)}"
        )


def check_overlays(names: Iterable[str]) -> frozenset[str]:
    """The overlays as a set; ValueError naming every valid overlay for an unknown one."""
    chosen = frozenset(names)
    for name in sorted(chosen):
        if name not in OVERLAYS:
            raise ValueError(f"unknown overlay {name!r}; valid overlays: {', '.join(OVERLAYS)}")
    return chosen
