"""How long a wait inside a step may take: just under what is left of the step, so the wait
fails first and the step can say precisely what it was waiting for."""

from __future__ import annotations

from collections.abc import Callable

# What a wait that ran out leaves the step for saying why: reading the page, its failure
# signals, its frames and overlays (a few browser round trips, slower on a busy machine).
MARGIN_SECONDS = 0.75


def wait_ms(time_left: Callable[[], float]) -> float:
    """Milliseconds a Playwright wait may take now (at least 1)."""
    return max(1.0, (time_left() - MARGIN_SECONDS) * 1000)
