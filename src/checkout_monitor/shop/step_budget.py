"""How long a wait inside a step may take: just under what is left of the step, so the wait
fails first and the step can say precisely what it was waiting for."""

from __future__ import annotations

from collections.abc import Callable

# What a wait that ran out leaves the step for saying why: reading the page, its failure
# signals, its frames and overlays (a few browser round trips, slower on a busy machine).
# A quarter of what is left, within these bounds, so a short step still has time to wait.
MARGIN_SECONDS = 0.75
MIN_MARGIN_SECONDS = 0.25


def wait_ms(time_left: Callable[[], float]) -> float:
    """Milliseconds a Playwright wait may take now (at least 1)."""
    left = time_left()
    margin = min(MARGIN_SECONDS, max(MIN_MARGIN_SECONDS, left / 4))
    return max(1.0, (left - margin) * 1000)
