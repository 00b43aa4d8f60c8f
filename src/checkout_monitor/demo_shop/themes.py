"""The storefront designs the demo shop can wear; same shop logic, different markup and paths."""

from __future__ import annotations

THEMES: tuple[str, ...] = ("classic", "boutique")


def check_theme(theme: str) -> None:
    """Raise ValueError naming every valid theme when `theme` is not one of them."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; valid themes: {', '.join(THEMES)}")
