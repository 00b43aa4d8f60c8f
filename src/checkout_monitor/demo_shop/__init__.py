"""A self-contained demo storefront and payment sandbox for checkout monitors to walk and break.

Standalone: nothing here imports the rest of checkout_monitor. Names load on first use, so
the command line can offer the faults and themes without importing Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from checkout_monitor.compat.lazy_names import lazy_getattr

if TYPE_CHECKING:
    from .faults import FAULTS, FaultSwitches
    from .orders import Order, OrderStore
    from .payment_modes import OVERLAYS, PAYMENT_MODES
    from .payment_sandbox import TEST_CARDS
    from .server import DemoShop
    from .themes import THEMES

_HOMES = {
    "FAULTS": ".faults",
    "FaultSwitches": ".faults",
    "Order": ".orders",
    "OrderStore": ".orders",
    "OVERLAYS": ".payment_modes",
    "PAYMENT_MODES": ".payment_modes",
    "TEST_CARDS": ".payment_sandbox",
    "DemoShop": ".server",
    "THEMES": ".themes",
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


__getattr__ = lazy_getattr(__name__, _HOMES, globals())
