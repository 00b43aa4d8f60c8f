"""The cart, kept in the signed cookie session as [slug, quantity] pairs plus one discount code."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from .catalogue import Product, find_product
from .discounts import DiscountOutcome, apply_code

MAX_LINE_QUANTITY = 99
Session = MutableMapping[str, Any]


@dataclass(frozen=True)
class CartLine:
    """One product in the cart and how many of it."""

    product: Product
    quantity: int

    @property
    def line_total_cents(self) -> int:
        """Unit price times quantity."""
        return self.product.price_cents * self.quantity


@dataclass(frozen=True)
class CartSummary:
    """Lines and money of a cart, with the stored discount code re-evaluated."""

    lines: tuple[CartLine, ...]
    subtotal_cents: int
    discount: DiscountOutcome | None

    @property
    def item_count(self) -> int:
        """Number of items (sum of quantities), as shown next to the cart link."""
        return sum(line.quantity for line in self.lines)

    @property
    def discount_cents(self) -> int:
        """The discount that currently applies (0 when the code no longer qualifies)."""
        return self.discount.discount_cents if self.discount and self.discount.accepted else 0

    @property
    def discount_code(self) -> str | None:
        """The applied code, or None."""
        return self.discount.code if self.discount and self.discount.accepted else None

    @property
    def total_cents(self) -> int:
        """Subtotal minus discount, before shipping."""
        return self.subtotal_cents - self.discount_cents


def parse_quantity(raw: str | None, *, allow_zero: bool = False) -> int | None:
    """A quantity from a form field, or None when it is not a whole number in range."""
    try:
        quantity = int((raw or "").strip())
    except ValueError:
        return None
    lowest = 0 if allow_zero else 1
    return quantity if lowest <= quantity <= MAX_LINE_QUANTITY else None


def _items(session: Session) -> dict[str, int]:
    # Stored as a list of pairs: the session serialiser sorts dict keys, losing the add order.
    raw = session.get("cart")
    items: dict[str, int] = {}
    for pair in raw if isinstance(raw, list) else []:
        if isinstance(pair, list) and len(pair) == 2:
            slug, quantity = pair
            if isinstance(quantity, int) and isinstance(slug, str) and find_product(slug):
                items[slug] = quantity
    return items


def _store(session: Session, items: dict[str, int]) -> None:
    session["cart"] = [[slug, quantity] for slug, quantity in items.items()]


def add_item(session: Session, slug: str, quantity: int) -> None:
    """Add to a line (creating it), capped at the per-line maximum."""
    items = _items(session)
    items[slug] = min(MAX_LINE_QUANTITY, items.get(slug, 0) + quantity)
    _store(session, items)


def set_quantity(session: Session, slug: str, quantity: int) -> None:
    """Change a line's quantity; zero removes the line."""
    items = _items(session)
    if slug not in items:
        return
    if quantity <= 0:
        del items[slug]
    else:
        items[slug] = min(MAX_LINE_QUANTITY, quantity)
    _store(session, items)


def remove_item(session: Session, slug: str) -> None:
    """Drop a line from the cart."""
    set_quantity(session, slug, 0)


def set_discount_code(session: Session, code: str) -> None:
    """Remember the (already accepted) code; one code per cart."""
    session["discount_code"] = code


def clear_cart(session: Session) -> None:
    """Empty the cart and forget its discount code."""
    session.pop("cart", None)
    session.pop("discount_code", None)


def summarise(session: Session) -> CartSummary:
    """The cart's lines and totals, re-checking the discount against the current subtotal."""
    lines = []
    for slug, quantity in _items(session).items():
        product = find_product(slug)
        if product is not None:
            lines.append(CartLine(product, quantity))
    subtotal = sum(line.line_total_cents for line in lines)
    code = session.get("discount_code")
    discount = apply_code(code, subtotal) if isinstance(code, str) and lines else None
    return CartSummary(tuple(lines), subtotal, discount)
