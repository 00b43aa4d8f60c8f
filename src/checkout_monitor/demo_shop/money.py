"""Money is integer euro cents everywhere; this is the one place that turns it into text."""

from __future__ import annotations

CURRENCY = "EUR"


def format_eur(cents: int) -> str:
    """Render cents the way the shop shows prices, e.g. 2400 -> '€24.00'."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}€{euros:,}.{rest:02d}"


def decimal_eur(cents: int) -> str:
    """Render cents as a plain decimal for machine-readable markup, e.g. 2400 -> '24.00'."""
    euros, rest = divmod(cents, 100)
    return f"{euros}.{rest:02d}"
