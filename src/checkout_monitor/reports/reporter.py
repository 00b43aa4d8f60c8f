"""``Reporter``: what a smoke run tells whoever watches it, step by step, as it happens.

The console is one reporter; the run only knows this protocol, so another (a live page, a
chat thread) can watch a run without the runner changing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from checkout_monitor.results import JourneyResult, StepResult


class Reporter(Protocol):
    def run_started(self, header: str) -> None: ...

    def journey_started(self, name: str, storefront: str) -> None: ...

    def step_finished(self, step: StepResult) -> None: ...

    def attempt_failed(self, result: JourneyResult) -> None:
        """An attempt failed and the journey will be tried again."""

    def journey_finished(self, result: JourneyResult) -> None: ...

    def run_finished(self, results: Sequence[JourneyResult], wall_seconds: float) -> None: ...

    def note(self, text: str) -> None:
        """A line about the run itself: a report written, metrics pushed."""
