"""Run one planned journey in a fresh browser context and turn whatever happens into a result."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from playwright.async_api import Browser, BrowserContext

from checkout_monitor.browser.allowlist import HostAllowlist
from checkout_monitor.browser.host_fence import HostGuard
from checkout_monitor.browser.launch import ContextFactory
from checkout_monitor.evidence.artifacts import RunFolder
from checkout_monitor.evidence.recorder import EvidenceRecorder, sensitive_inputs
from checkout_monitor.evidence.redaction import EvidenceRedactor
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.results import Evidence, JourneyResult, StepResult, StepStatus
from checkout_monitor.run.journey import JourneyRun, JourneyStopped
from checkout_monitor.run.plan import PlannedJourney
from checkout_monitor.shop.storefront import Storefront
from checkout_monitor.step_failures import classify
from checkout_monitor.text.durations import format_duration

StepListener = Callable[[PlannedJourney, StepResult], None]
_CLOSE_SECONDS = 10.0
_GRACE_SECONDS = 2.0  # for code between steps, after the steps' own deadlines
# A step can see its connection close a moment before the browser object says so: a step
# that failed as "closed" this long before the disconnect failed of it.
_SEEN_FIRST_SECONDS = 2.0


class JourneyRunner:
    """Runs attempts; with ``artifacts`` (a run folder), failed attempts leave evidence there
    and ``trace=True`` records a Playwright trace, kept only if the attempt fails."""

    def __init__(
        self,
        contexts: ContextFactory,
        location: str,
        *,
        clock: Callable[[], float] = time.perf_counter,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_step: StepListener | None = None,
        artifacts: RunFolder | None = None,
    ) -> None:
        self._contexts = contexts
        self._location = location
        self._clock = clock
        self._now = now
        self._on_step = on_step
        self._artifacts = artifacts

    async def run(
        self, planned: PlannedJourney, *, attempt: int = 1, trace: bool = False
    ) -> JourneyResult:
        """One attempt; ``trace``: record a Playwright trace, kept if the attempt fails
        (only with ``artifacts``: without a folder to keep it in, nothing is traced)."""
        started_at = self._now()
        start = self._clock()
        steps: list[StepResult] = []
        counts: dict[str, int] = {}
        broken_images: list[str] = []
        context: BrowserContext | None = None
        recorder: EvidenceRecorder | None = None
        evidence: Evidence | None = None
        finished: float | None = None
        ends: list[float] = []  # when each step was recorded, on self._clock
        lost = _Disconnect(self._clock)
        guard = HostGuard(HostAllowlist.for_profile(planned.storefront, planned.profile))
        try:
            try:
                async with asyncio.timeout(planned.step_timeout + _GRACE_SECONDS):
                    context = await self._contexts.new_context(planned.step_timeout, guard)
                lost.watch(context)
                recorder = await self._start_recorder(context, planned, trace)
                steps, counts, broken_images = await self._run_in(context, planned, guard, ends)
                finished = self._clock()  # before any wait below: that time is ours
                steps = await self._blame_lost_browser(lost, steps, ends)
            except TimeoutError:  # a wedged browser: the journey itself never started
                steps.append(
                    StepResult(
                        "start browser context",
                        StepStatus.FAILED,
                        0.0,
                        FailureKind.BROWSER_CRASH,
                        "the browser did not open a new context in time",
                    )
                )
                self._notify(planned, steps[-1])
            except Exception as exc:  # the context itself could not be made: browser gone
                kind, message = classify(exc)
                steps.append(
                    StepResult("start browser context", StepStatus.FAILED, 0.0, kind, message)
                )
                self._notify(planned, steps[-1])
            if finished is None:
                finished = self._clock()  # the shop's time: capturing evidence is ours
            evidence = await self._evidence(recorder, planned, attempt, steps, broken_images)
        finally:
            lost.stop_watching()
            if context is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(context.close(), _CLOSE_SECONDS)
        return JourneyResult(
            name=planned.name,
            journey=planned.definition.name,
            storefront=planned.storefront,
            location=self._location,
            started_at=started_at,
            duration_seconds=(finished if finished is not None else self._clock()) - start,
            steps=tuple(steps),
            owner=planned.config.owner,
            runbook=planned.config.runbook,
            evidence=evidence,
            counts=counts,
            attempt=attempt,
            tags=tuple(planned.config.tags),
            blocked_requests=guard.blocked,
        )

    async def _blame_lost_browser(
        self, lost: _Disconnect, steps: list[StepResult], ends: list[float]
    ) -> list[StepResult]:
        """Every step that failed once the browser had gone away failed because of it,
        whatever it saw on the way (a timeout, an element that never came): ours, not the
        shop's, in words that name the browser (a remote one: where it was), keeping what
        the step saw. A step that failed before the browser went, and a page the shop closed
        itself with the browser still there, stay as they were."""
        failed = [i for i, step in enumerate(steps) if step.status is StepStatus.FAILED]
        if not failed:
            return steps
        saw_closed = any(steps[i].failure_kind is FailureKind.BROWSER_CRASH for i in failed)
        at = await lost.when(wait=_SEEN_FIRST_SECONDS if saw_closed else 0.0)
        if at is None:
            return steps
        because = self._contexts.lost_browser()
        for i in failed:
            step, ended = steps[i], ends[i] if i < len(ends) else at
            closed = step.failure_kind is FailureKind.BROWSER_CRASH
            if ended < at and not (closed and ended >= at - _SEEN_FIRST_SECONDS):
                continue  # it failed while the browser was still there: what it saw stands
            message = (
                because
                if step.message in ("", because)
                else (f"{because}; the step saw: {step.message}")
            )
            steps[i] = replace(step, failure_kind=FailureKind.BROWSER_CRASH, message=message)
        return steps

    async def _start_recorder(
        self, context: BrowserContext, planned: PlannedJourney, trace: bool
    ) -> EvidenceRecorder | None:
        if self._artifacts is None:
            return None
        secrets = self._artifacts.secrets
        recorder = EvidenceRecorder(
            context,
            EvidenceRedactor.for_profile(planned.profile, secrets),
            sensitive_inputs(planned.profile, secrets),
            trace=trace,
        )
        await recorder.start()
        return recorder

    async def _evidence(
        self,
        recorder: EvidenceRecorder | None,
        planned: PlannedJourney,
        attempt: int,
        steps: list[StepResult],
        broken_images: list[str],
    ) -> Evidence | None:
        """Evidence for a failed attempt; a passed one drops its trace and keeps nothing."""
        if self._artifacts is None:
            return None
        if all(step.ok for step in steps):
            if recorder is not None:
                await recorder.discard()
            return None
        if recorder is None:  # no browser context: no page to capture
            return Evidence(
                folder=self._artifacts.attempt_relative(planned.name, attempt),
                problems=("nothing captured: the browser context did not start",),
            )
        return await recorder.capture(self._artifacts, planned.name, attempt, broken_images)

    async def _run_in(
        self, context: BrowserContext, planned: PlannedJourney, guard: HostGuard, ends: list[float]
    ) -> tuple[list[StepResult], dict[str, int], list[str]]:
        async with asyncio.timeout(planned.step_timeout + _GRACE_SECONDS):
            page = await context.new_page()
        shop = Storefront(
            page,
            planned.profile,
            time_left=lambda: run.time_left(),  # noqa: PLW0108 (run is bound below)
            navigation_retries=planned.navigation_retries,
            base_dir=planned.base_dir,
            allowlist=guard.allowlist,
            storefront=planned.storefront,
        )
        run = JourneyRun(
            shop=shop,
            page=page,
            step_timeout=planned.step_timeout,
            journey_timeout=planned.journey_timeout,
            clock=self._clock,
            on_step=lambda step: self._step_ended(planned, step, ends),
            place_order=planned.config.place_order,
            refused_navigation=guard.take_refused_navigation,
        )
        guard.on_navigation_blocked = run.stop_step
        try:
            async with asyncio.timeout(planned.journey_timeout + _GRACE_SECONDS):
                await planned.definition.func(run)
        except JourneyStopped:
            pass  # the failed step is already recorded
        except TimeoutError:
            run.record_failure(
                "(between steps)",
                FailureKind.TIMEOUT,
                f"the journey did not finish within {format_duration(planned.journey_timeout)}",
            )
        except Exception as exc:
            run.record_failure("(journey script)", *classify(exc))
        if not run.steps:
            run.record_failure(
                "(journey script)", FailureKind.JOURNEY_ERROR, "the journey ran no steps"
            )
        return run.steps, dict(shop.tally), shop.broken_images

    def _step_ended(self, planned: PlannedJourney, step: StepResult, ends: list[float]) -> None:
        ends.append(self._clock())
        self._notify(planned, step)

    def _notify(self, planned: PlannedJourney, step: StepResult) -> None:
        if self._on_step is not None:
            self._on_step(planned, step)


class _Disconnect:
    """When the run's browser went away (its ``disconnected`` event), on the runner's clock:
    what a failed step is judged by, rather than whether the browser is there afterwards."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._browser: Browser | None = None
        self._at: float | None = None
        self._seen = asyncio.Event()

    def watch(self, context: BrowserContext) -> None:
        browser = context.browser
        if browser is None or not browser.is_connected():
            self._gone(browser)
            return
        self._browser = browser
        browser.on("disconnected", self._gone)

    def stop_watching(self) -> None:
        """A kept browser serves many runs: each run's listener goes with it."""
        if self._browser is not None:
            self._browser.remove_listener("disconnected", self._gone)
            self._browser = None

    async def when(self, *, wait: float) -> float | None:
        """When it went; None: it is still there (``wait``: for the event to arrive)."""
        if self._at is None and wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._seen.wait(), wait)
        return self._at

    def _gone(self, _browser: Browser | None) -> None:
        if self._at is None:
            self._at = self._clock()
        self._seen.set()
