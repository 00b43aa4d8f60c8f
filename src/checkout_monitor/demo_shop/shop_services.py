"""What the shop's request handlers share: faults, orders, the payment client, admin secret."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .bounded import BoundedMap
from .faults import FaultSwitches
from .orders import OrderStore
from .payments import SandboxClient


@dataclass
class ShopServices:
    """Everything a shop app needs that outlives one request."""

    faults: FaultSwitches
    orders: OrderStore
    sandbox: SandboxClient
    admin_token: str
    # Set on shutdown so a deliberately slow response wakes up instead of holding a thread.
    stopping: threading.Event = field(default_factory=threading.Event)
    payment: str = "form"  # "form", "hosted-fields" or "redirect" (see payment_modes.py)
    overlays: frozenset[str] = frozenset()
    newsletter_delay: float = 2.0
    sandbox_public_url: str = ""  # the sandbox as browsers reach it: another site
    payment_secret: bytes = b""  # shared with the sandbox: signs hosted page results
    # hosted payment session -> the order it made: a replayed return URL makes no second
    hosted_orders: BoundedMap[str] = field(default_factory=BoundedMap)

    def product_page_delay(self) -> None:
        """Hold a product page back while the slow-product-page fault is on."""
        if self.faults.is_on("slow-product-page"):
            self.stopping.wait(self.faults.param("slow-product-page", "delay_seconds"))

    def sold_out(self) -> bool:
        """Whether every product currently shows as sold out."""
        return self.faults.is_on("out-of-stock")
