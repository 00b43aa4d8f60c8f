"""A wall clock the test moves by hand: the alerting engine's and dispatcher's ``clock``."""

from __future__ import annotations

START = 1_800_000_000.0  # 2027-01-15, far from any real run's time


class ManualClock:
    """``clock()`` is ``now``; ``monotonic()`` keeps pace with it from an arbitrary origin."""

    def __init__(self, now: float = START) -> None:
        self.start = self.now = now

    def __call__(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now - self.start + 1000.0
