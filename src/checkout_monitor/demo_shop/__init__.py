"""A self-contained demo storefront and payment sandbox for checkout monitors to walk and break.

Standalone: nothing here imports the rest of checkout_monitor.
"""

from .faults import FAULTS, FaultSwitches
from .orders import Order, OrderStore
from .payment_modes import OVERLAYS, PAYMENT_MODES
from .payment_sandbox import TEST_CARDS
from .server import DemoShop
from .themes import THEMES

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
