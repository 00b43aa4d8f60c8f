"""Amounts as shops print them ("€24.00", "1.234,56 €", "-$5", "¥1,200") in minor units."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

_NUMBER = re.compile(r"-?\d[\d.,\s\u00a0\u202f']*")


def parse_money(text: str, decimals: int = 2) -> int:
    """The amount in ``text`` in minor units (cents), or ValueError saying what was seen."""
    text = text.replace("\u2212", "-")  # a typographic minus
    match = _NUMBER.search(text)
    if match is None:
        raise ValueError(f"no amount in {text!r}")
    raw = re.sub(r"[\s\u00a0\u202f']", "", match[0]).rstrip(".,")
    negative = raw.startswith("-") or text.strip().startswith("-")
    digits = raw.lstrip("-")
    units, fraction = digits, ""
    if decimals > 0:
        last = max(digits.rfind("."), digits.rfind(","))
        if last != -1 and len(digits) - last - 1 == decimals:
            units, fraction = digits[:last], digits[last + 1 :]
    units = re.sub(r"[.,]", "", units) or "0"
    scale: int = 10**decimals
    value = int(units) * scale + int(fraction.ljust(decimals, "0") or 0)
    return -value if negative else value


def format_money(minor: int, decimals: int = 2) -> str:
    sign = "-" if minor < 0 else ""
    scale: int = 10**decimals
    whole, part = divmod(abs(minor), scale)
    return f"{sign}{whole}.{part:0{decimals}d}" if decimals else f"{sign}{whole}"


def percent_of(minor: int, percent: float) -> int:
    """``percent`` of an amount, rounded half up to the currency's minor unit."""
    exact = Decimal(minor) * Decimal(str(percent)) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_minor(amount: float, decimals: int = 2) -> int:
    """A configured amount (10.5 euros) in minor units (1050 cents)."""
    scale: int = 10**decimals
    return round(amount * scale)
