"""`checkout-monitor serve`: run each journey at its own interval, for months.

One browser at a time (``BrowserKeeper``: started again after a crash, replaced after
``browser.recycle_after_runs`` runs or above its memory budget), a fresh context per run,
never a journey overlapping itself, at most N journeys at once. SIGTERM/SIGINT stop
scheduling and give in-flight runs a grace period; SIGHUP reloads the config, keeping the
last good one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from playwright.async_api import Browser, async_playwright

from checkout_monitor.agent.sharding import WHOLE, Shard, describe
from checkout_monitor.agent.status_server import Readiness
from checkout_monitor.alerting.service import Alerting
from checkout_monitor.browser.keeper import BrowserKeeper, RecycleReason
from checkout_monitor.browser.launch import ContextFactory, launch_browser
from checkout_monitor.browser.process_stats import AgentProcessWatch
from checkout_monitor.config.model import BrowserConfig, LoadedConfig
from checkout_monitor.errors import CheckoutMonitorError
from checkout_monitor.evidence.artifacts import ArtifactStore
from checkout_monitor.evidence.redaction import EvidenceRedactor, scrub_results
from checkout_monitor.history.recorder import HistoryRecorder
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.results import JourneyResult
from checkout_monitor.run.attempts import run_with_retries
from checkout_monitor.run.plan import PlannedJourney
from checkout_monitor.run.runner import JourneyRunner

log = logging.getLogger("checkout_monitor.agent")  # the name logs and filters know
_TICK_SECONDS = 0.25

Loader = Callable[[], tuple[LoadedConfig, list[PlannedJourney]]]


@dataclass
class _Slot:
    """A journey's schedule: when it is next due, and its run in flight if any."""

    journey: PlannedJourney
    due: float
    task: asyncio.Task[None] | None = None


class Agent:
    def __init__(
        self,
        load: Loader,
        metrics: Metrics,
        readiness: Readiness,
        *,
        alerting: Alerting | None = None,
        history: HistoryRecorder | None = None,
        rng: random.Random | None = None,
        first: tuple[LoadedConfig, list[PlannedJourney]] | None = None,
        shard: Shard = WHOLE,
    ) -> None:
        """``load`` is called on every reload; ``first``: what the caller's own first
        call of it returned (serve loads before it listens), so start-up loads once.
        ``shard``: of the journeys ``load`` plans, only those this shard owns are run."""
        self._load = load
        self.shard = shard
        self._metrics = metrics
        self._readiness = readiness
        self._alerting = alerting
        self.history = history  # the status page reads its path and ``problem``
        self._rng = rng or random.Random()
        self._stopping = asyncio.Event()
        # set when a run ends or a stop or reload is asked for: the loop looks again at once
        # instead of at its next tick, so a freed slot does not sit idle for up to a tick
        self._wake = asyncio.Event()
        self._reload_requested = False
        self._slots: dict[str, _Slot] = {}
        self._inflight: set[asyncio.Task[None]] = set()  # also runs of journeys since removed
        self._keeper: BrowserKeeper | None = None
        self._contexts: ContextFactory | None = None
        self.loaded, planned = first if first is not None else load()
        self.artifacts = ArtifactStore.from_config(self.loaded, self._metrics.watch_artifacts())
        self._metrics.config_loaded(True, time.time())
        self._metrics.watch_agent_process(AgentProcessWatch().read)
        self._plan(planned)

    def request_stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def request_reload(self) -> None:
        self._reload_requested = True
        self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        if self._alerting is not None:
            await self._alerting.start()
        async with async_playwright() as playwright:

            async def launch(config: BrowserConfig) -> Browser:
                return await launch_browser(playwright, config)

            for reason in RecycleReason:  # every series from the start: increase() sees the first
                self._metrics.browser_recycles.labels(reason.value, self._metrics.location)
            keeper = self._keeper = BrowserKeeper(
                launch,
                self.loaded.config.browser,
                on_up=self._browser_up,
                on_restart=self._metrics.browser_restarts.labels(self._metrics.location).inc,
                on_recycle=self._count_recycle,
            )
            try:
                await keeper.start()
                self._contexts = ContextFactory(
                    keeper, self.loaded.config.browser, self.loaded.config.synthetic
                )
                due: float | None = None
                while not self._stopping.is_set():
                    self._wake.clear()  # anything from here on wakes the wait below
                    self._tick_ran(due)
                    if self._reload_requested:
                        self._reload()
                    keeper.maintain()
                    self._start_due(self._contexts)
                    if self._alerting is not None:
                        self._alerting.tick()
                    self._readiness.loop_ran()
                    due = time.monotonic() + _TICK_SECONDS
                    with contextlib.suppress(TimeoutError):  # the tick, unless woken
                        await asyncio.wait_for(self._wake.wait(), _TICK_SECONDS)
                await self._drain()
            finally:
                await keeper.close()
                if self._alerting is not None:
                    await self._alerting.stop()
                if self.history is not None:  # writes what is queued, for a bounded time
                    await asyncio.to_thread(self.history.close)

    def _tick_ran(self, due: float | None) -> None:
        """Scheduler lag: how much later than due this tick runs (a busy event loop)."""
        if due is None:
            return
        lag = max(0.0, time.monotonic() - due)
        self._metrics.scheduler_lag.labels(self._metrics.location).observe(lag)
        self._metrics.scheduler_last_lag.labels(self._metrics.location).set(lag)

    def _browser_up(self, up: bool) -> None:
        self._readiness.browser(up)
        self._metrics.browser_connected.labels(self._metrics.location).set(1 if up else 0)

    def _count_recycle(self, reason: RecycleReason) -> None:
        self._metrics.browser_recycles.labels(reason.value, self._metrics.location).inc()

    # --- schedule -------------------------------------------------------------------------

    def _plan(self, planned: list[PlannedJourney]) -> None:
        """Keep the schedule of owned journeys that stay; new ones start within their jitter.

        The journeys this shard owns or is the runner-up for are exported (interval and
        info), so Prometheus knows what is configured while any one owner is down; only
        this shard's own get a slot, and with it run metrics and alert state."""
        now = time.monotonic()
        slots: dict[str, _Slot] = {}
        owned = [journey for journey in planned if self.shard.owns(journey.name)]
        self._metrics.journeys_configured(
            {
                journey.name: (journey.interval, journey.storefront)
                for journey in planned
                if self.shard.exports(journey.name)
            }
        )
        self._metrics.sharded(
            self.shard.index, self.shard.count, [journey.name for journey in owned]
        )
        location = self.loaded.config.location
        log.info("%s", describe(self.shard, location, len(owned), len(planned)))
        if not owned:
            log.warning(
                "shard %s owns none of the %d configured journeys: it runs nothing (legal, "
                "with more agents than journeys, but check the shard count)",
                self.shard.label,
                len(planned),
            )
        for journey in owned:
            old = self._slots.get(journey.name)
            if old is not None:
                old.journey = journey
                slots[journey.name] = old
            else:
                slots[journey.name] = _Slot(journey, now + self._jitter(journey))
        self._slots = slots

    def _jitter(self, journey: PlannedJourney) -> float:
        return self._rng.uniform(0, self.loaded.config.agent.jitter * journey.interval)

    def _start_due(self, contexts: ContextFactory) -> None:
        now = time.monotonic()
        running = len(self._inflight)
        limit = self.loaded.config.agent.max_concurrent_journeys
        for slot in sorted(self._slots.values(), key=lambda s: s.due):
            if running >= limit or slot.due > now:
                break
            if slot.task is not None and not slot.task.done():
                continue  # never overlap a journey with itself
            slot.due = now + slot.journey.interval + self._jitter(slot.journey)
            slot.task = asyncio.create_task(self._run_one(contexts, slot.journey))
            self._inflight.add(slot.task)
            slot.task.add_done_callback(self._inflight.discard)
            slot.task.add_done_callback(lambda _task: self._wake.set())
            running += 1

    async def _run_one(self, contexts: ContextFactory, journey: PlannedJourney) -> None:
        run_folder = self.artifacts.start_run()  # one per journey run, pruned after it
        runner = JourneyRunner(contexts, self.loaded.config.location, artifacts=run_folder)
        try:
            result = await run_with_retries(
                runner, journey, self.loaded.config.artifacts.traces, secrets=self.loaded.secrets
            )
        finally:
            run_folder.finish()
        # a step named after a secret ("refuse ${CODE}") must not become a label or a log line
        scrub = EvidenceRedactor.for_profile(journey.profile, self.loaded.secrets).text
        (result,) = scrub_results([result], scrub)
        self._metrics.observe(result)
        _log_result(result)
        if self.history is not None:
            # a commit waits on fsync or a lock: the recorder's own thread writes it, so
            # neither this slot, the loop nor the shared executor ever waits for the database.
            # Handed over first, so it is committed as early as it can be; a week-over-week
            # rule may still read the history before the commit, and reads again until a
            # read has seen this run (WeekOverWeekChecks.observed)
            self.history.submit(result)
        if self._alerting is not None:
            self._alerting.observe(result)

    async def _drain(self) -> None:
        tasks = list(self._inflight)
        if not tasks:
            return
        grace = self.loaded.config.agent.grace_period
        log.info("stopping: waiting up to %.0fs for %d journey run(s)", grace, len(tasks))
        _done, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            log.warning(
                "aborted %d journey run(s) still going after the grace period", len(pending)
            )
            await asyncio.wait(pending, timeout=5)

    # --- browser and config -----------------------------------------------------------------

    def _reload(self) -> None:
        self._reload_requested = False
        try:
            loaded, planned = self._load()
        except CheckoutMonitorError as exc:
            log.error("config reload failed, keeping the last good config:\n%s", exc)
            self._metrics.config_loaded(False, time.time())
            return
        except Exception:  # a bug must not take the running agent down with it
            log.exception("config reload failed (a bug), keeping the last good config")
            self._metrics.config_loaded(False, time.time())
            return
        self.loaded = loaded
        self.artifacts.configure(loaded)
        if self._keeper is not None:  # browser settings apply to the runs started from now on
            self._keeper.configure(loaded.config.browser)
            self._contexts = ContextFactory(
                self._keeper, loaded.config.browser, loaded.config.synthetic
            )
        self._plan(planned)
        if self._alerting is not None:
            self._alerting.configure(loaded)
        if self.history is not None:
            self.history.configure(loaded)
        self._metrics.config_loaded(True, time.time())
        log.info("config reloaded: %d journeys, %d run here", len(planned), len(self._slots))


def _log_result(result: JourneyResult) -> None:
    failed = result.failed_step
    if result.skipped:  # checked nothing: never logged as a pass
        log.info(
            "%s SKIPPED: nothing it could check here (all %d steps skipped: %s)",
            result.name,
            len(result.steps),
            "; ".join(f"{step.name}: {step.message}" for step in result.steps),
        )
    elif failed is None or failed.failure_kind is None:
        log.info("%s passed in %.1fs", result.name, result.duration_seconds)
    else:
        log.warning(
            "%s FAILED at step %r (%s, %s): %s",
            result.name,
            failed.name,
            failed.failure_kind.value,
            failed.failure_kind.failure_class.value,
            failed.message,
        )
