"""A self-contained demo storefront and payment sandbox for checkout monitors to walk and break.

Standalone: nothing here imports the rest of checkout_monitor.
"""

from .faults import FAULTS, FaultSwitches
from .orders import Order, OrderStore
from .payment_sandbox import TEST_CARDS
from .server import DemoShop
from .themes import THEMES

__all__ = ["FAULTS", "TEST_CARDS", "THEMES", "DemoShop", "FaultSwitches", "Order", "OrderStore"]
