"""Orders the shop has taken, kept in memory for the lifetime of one DemoShop."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any, Literal

from .money import CURRENCY

OrderStatus = Literal["paid", "cancelled"]
FIRST_ORDER_NUMBER = 100_001


@dataclass(frozen=True)
class OrderItem:
    """One cart line as it was when the order was paid."""

    slug: str
    name: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class Order:
    """A paid (or later cancelled) order; `synthetic` marks orders placed by a monitor."""

    number: str
    status: OrderStatus
    created_at: str
    items: tuple[OrderItem, ...]
    subtotal_cents: int
    discount_code: str | None
    discount_cents: int
    shipping_method: str
    shipping_cents: int
    total_cents: int
    email: str
    charge_id: str
    synthetic: bool
    user_agent: str
    currency: str = CURRENCY

    def to_json(self) -> dict[str, Any]:
        """The order as the orders API returns it."""
        data = dataclasses.asdict(self)
        data["items"] = [dataclasses.asdict(item) for item in self.items]
        return data


class OrderStore:
    """Thread-safe order book handing out sequential numbers CM-100001, CM-100002, ..."""

    def __init__(self) -> None:
        self._orders: dict[str, Order] = {}
        self._next = FIRST_ORDER_NUMBER
        self._lock = threading.Lock()

    def create(self, **fields: Any) -> Order:
        """Store a new paid order under the next number and return it."""
        with self._lock:
            number = f"CM-{self._next}"
            self._next += 1
            order = Order(number=number, status="paid", **fields)
            self._orders[number] = order
            return order

    def list(self) -> list[Order]:
        """Every order, oldest first."""
        with self._lock:
            return list(self._orders.values())

    def get(self, number: str) -> Order | None:
        """The order with this number, or None."""
        with self._lock:
            return self._orders.get(number)

    def cancel(self, number: str) -> Order | None:
        """Mark an order cancelled; None when there is no such order."""
        with self._lock:
            order = self._orders.get(number)
            if order is None:
                return None
            cancelled = dataclasses.replace(order, status="cancelled")
            self._orders[number] = cancelled
            return cancelled
