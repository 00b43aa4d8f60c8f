"""A self-contained demo storefront and payment sandbox for checkout monitors to walk and break.

Standalone: nothing here imports the rest of checkout_monitor. Names load on first use, so
the command line can offer the faults and themes without importing Flask.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .faults import FAULTS, FaultSwitches
    from .orders import Order, OrderStore
    from .payment_modes import OVERLAYS, PAYMENT_MODES
    from .payment_sandbox import TEST_CARDS
    from .server import DemoShop
    from .themes import THEMES

_HOMES = {
    "FAULTS": "faults",
    "FaultSwitches": "faults",
    "Order": "orders",
    "OrderStore": "orders",
    "OVERLAYS": "payment_modes",
    "PAYMENT_MODES": "payment_modes",
    "TEST_CARDS": "payment_sandbox",
    "DemoShop": "server",
    "THEMES": "themes",
}

__all__ = [
    "FAULTS",
    "OVERLAYS",
    "PAYMENT_MODES",
    "TEST_CARDS",
    "THEMES",
    "DemoShop",
    "FaultSwitches",
    "Order",
    "OrderStore",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
