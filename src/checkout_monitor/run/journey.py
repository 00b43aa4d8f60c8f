"""The authoring API for journeys in monitors/: ``@journey`` and ``run.step(...)``.

A journey is an async function that receives a ``JourneyRun``. Each ``async with
run.step("name")`` block is timed, bounded by the step timeout, and turned into a
``StepResult``; the first failing step ends the journey. A soft step
(``run.step("name", soft=True)``, like Elastic Synthetics' ``step.soft``) is recorded as
failed and the journey goes on, so one run lists every broken page; the journey still fails.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.results import StepResult, StepStatus
from checkout_monitor.step_failures import classify
from checkout_monitor.text.durations import format_duration

if TYPE_CHECKING:
    from playwright.async_api import Page

    from checkout_monitor.shop.storefront import Storefront

JourneyFunction = Callable[["JourneyRun"], Awaitable[None]]
MARKER = "__checkout_journey__"
# Failures that end the journey even in a soft step: the browser is gone, the page was sent
# off the allowed hosts, the script itself is broken, or the shop is too slow to answer in
# time (waiting out the timeout on every page would only delay the verdict by that much).
STOPS_EVEN_SOFT = frozenset(
    {
        FailureKind.BROWSER_CRASH,
        FailureKind.HOST_NOT_ALLOWED,
        FailureKind.JOURNEY_ERROR,
        FailureKind.TIMEOUT,
    }
)


@dataclass(frozen=True)
class JourneyDefinition:
    name: str
    func: JourneyFunction
    description: str
    tags: tuple[str, ...] = ()
    source: Path | None = None


def journey(
    name: str, *, description: str = "", tags: tuple[str, ...] = ()
) -> Callable[[JourneyFunction], JourneyFunction]:
    """Declare an async function in monitors/ as the journey ``name``."""

    def register(func: JourneyFunction) -> JourneyFunction:
        doc = (func.__doc__ or "").strip().splitlines()
        definition = JourneyDefinition(name, func, description or (doc[0] if doc else ""), tags)
        setattr(func, MARKER, definition)
        return func

    return register


class JourneyStopped(Exception):
    """Raised out of a failed step so the rest of the journey does not run."""


class StepHandle:
    """Lets a step say what it found when it passes ("order CM-100001")."""

    def __init__(self) -> None:
        self.message = ""

    def note(self, message: str) -> None:
        self.message = message


class JourneyRun:
    """What a journey function receives: the shop page-object, the page, and ``step()``."""

    def __init__(
        self,
        *,
        shop: Storefront,
        page: Page,
        step_timeout: float,
        journey_timeout: float,
        clock: Callable[[], float] = time.perf_counter,
        on_step: Callable[[StepResult], None] | None = None,
        place_order: bool = True,
        refused_navigation: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.shop = shop
        self.place_order = place_order  # false: a dry run, stop before the final submit
        self.page = page
        self.steps: list[StepResult] = []
        self._step_timeout = step_timeout
        self._journey_timeout = journey_timeout
        self._clock = clock
        self._on_step = on_step
        loop = asyncio.get_running_loop()
        self._journey_deadline = loop.time() + journey_timeout
        self._step_deadline = self._journey_deadline
        # A page sent to a host the config does not name: the failure, once per page.
        self._refused_navigation = refused_navigation
        self._step_timer: asyncio.Timeout | None = None

    def stop_step(self) -> None:
        """End the running step now (its page was sent off the allowed hosts), rather than
        let it wait out its timeout for a page that cannot come."""
        if self._step_timer is not None and not self._step_timer.expired():
            self._step_timer.reschedule(asyncio.get_running_loop().time())

    def time_left(self) -> float:
        """Seconds left in the current step, for waits that want to fail before it does."""
        return max(0.0, self._step_deadline - asyncio.get_running_loop().time())

    @asynccontextmanager
    async def step(
        self, name: str, *, check: str | None = None, soft: bool = False
    ) -> AsyncIterator[StepHandle]:
        """A named, timed step; ``check`` names what it checks, for the metrics.

        ``soft``: a failure is recorded and the journey goes on (its result is still a
        failure), unless it is one of ``STOPS_EVEN_SOFT``.
        """
        handle = StepHandle()
        loop = asyncio.get_running_loop()
        start = self._clock()
        step_deadline = loop.time() + self._step_timeout
        journey_limited = self._journey_deadline < step_deadline
        self._step_deadline = min(step_deadline, self._journey_deadline)
        try:
            async with asyncio.timeout_at(self._step_deadline) as self._step_timer:
                yield handle
        except Exception as exc:
            refused = self._refused_navigation()
            if refused is not None:  # whatever the step saw next came of that
                kind, message = FailureKind.HOST_NOT_ALLOWED, refused
            elif isinstance(exc, TimeoutError):  # our own step deadline, not Playwright's
                kind, message = FailureKind.TIMEOUT, self._timeout_message(journey_limited)
            else:
                kind, message = classify(exc)
                if kind is FailureKind.TIMEOUT:  # a wait inside the step ran out first
                    message = f"{message}: {self._timeout_message(journey_limited)}"
            self._record(
                StepResult(name, StepStatus.FAILED, self._clock() - start, kind, message, check)
            )
            if not soft or kind in STOPS_EVEN_SOFT or isinstance(exc, JourneyStopped):
                raise JourneyStopped(name) from exc
            return  # a soft step: the failure is recorded, the journey goes on
        finally:
            self._step_deadline = self._journey_deadline
            self._step_timer = None
        refused = self._refused_navigation()
        if refused is not None:  # the step got what it wanted, but the page was sent away
            self._record(
                StepResult(
                    name,
                    StepStatus.FAILED,
                    self._clock() - start,
                    FailureKind.HOST_NOT_ALLOWED,
                    refused,
                    check,
                )
            )
            raise JourneyStopped(name)
        self._record(
            StepResult(name, StepStatus.PASSED, self._clock() - start, None, handle.message, check)
        )

    def skip(self, name: str, reason: str) -> None:
        """Record a step that could not run here, so it is visible rather than a silent pass."""
        self._record(StepResult(name, StepStatus.SKIPPED, 0.0, None, reason))

    def record_failure(self, name: str, kind: FailureKind, message: str) -> None:
        """Record a failure outside any step (the runner uses this for script errors)."""
        self._record(StepResult(name, StepStatus.FAILED, 0.0, kind, message))

    def _record(self, step: StepResult) -> None:
        self.steps.append(step)
        if self._on_step is not None:
            self._on_step(step)

    def _timeout_message(self, journey_limited: bool) -> str:
        if journey_limited:
            return (
                f"the journey ran out of its {format_duration(self._journey_timeout)} "
                "time budget during this step"
            )
        return f"this step did not finish within its {format_duration(self._step_timeout)} timeout"
