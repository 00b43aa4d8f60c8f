"""Timing cases side by side on a noisy machine: one warm-up each, then rounds in which the
order rotates, so drift over the run hits every case alike."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

Case = tuple[str, Callable[[], Awaitable[object]]]


async def time_rotating(cases: Sequence[Case], rounds: int) -> dict[str, list[float]]:
    """Seconds each case took in each round, by case name."""
    for _name, case in cases:  # warm-up: first-run costs (user agent probe, caches)
        await case()
    timings: dict[str, list[float]] = {name: [] for name, _ in cases}
    for i in range(rounds):
        shift = i % len(cases)
        for name, case in [*cases[shift:], *cases[:shift]]:
            start = time.perf_counter()
            await case()
            timings[name].append(time.perf_counter() - start)
    return timings
