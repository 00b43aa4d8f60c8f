"""How long a wait inside a step may take: just under what is left of the step, so the wait
fails first and the step can say precisely what it was waiting for."""

from __future__ import annotations

from collections.abc import Callable

MARGIN_SECONDS = 0.25


def wait_ms(time_left: Callable[[], float]) -> float:
    """Milliseconds a Playwright wait may take now (at least 1)."""
    return max(1.0, (time_left() - MARGIN_SECONDS) * 1000)
