"""The agent's browser over months: one live Chromium handed out per new context, started
again after a crash, and replaced after ``browser.recycle_after_runs`` runs or above
``browser.recycle_above_mib``. With ``browser.remote``, connecting is its launch: a lost
connection is a crash, and connecting again its restart.

Whoever needs a browser first after a crash relaunches it, under a lock, so a crash is
relaunched (and counted) once however many runs meet the dead browser. Between runs the
scheduler's tick starts it again, retrying with a growing backoff (tenacity) while it will
not start or the browser server does not answer; meanwhile runs due fail at once with its
last reason, so only that retry knocks on a recovering server. A replaced browser is closed
only when the runs still using it have ended: a run is never cut off mid-flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from playwright.async_api import Browser, BrowserContext
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from checkout_monitor.browser.process_stats import chromium_roots, read_tree, tree_rss_bytes
from checkout_monitor.browser.remote import lost_connection
from checkout_monitor.config.model import BrowserConfig
from checkout_monitor.config.remote_browser import RemoteProtocol
from checkout_monitor.errors import BrowserUnavailableError

log = logging.getLogger("checkout_monitor.browser_lifecycle")  # the name logs and filters know
_MEMORY_CHECK_SECONDS = 10.0  # reading /proc for the whole tree costs milliseconds: not each tick
# A run ends within its journey_timeout (at most 1h) and its context closes within seconds; a
# replaced browser still open long after that holds a context that failed to close.
_RETIRED_MAX_SECONDS = 3600.0 + 120.0
_CLOSE_SECONDS = 10.0
# a browser that will not start, or a server that does not answer, is tried again after
# 0.5 s, 1 s, 2 s, ... up to this long between tries
_RELAUNCH_BACKOFF_MAX_SECONDS = 30.0
_BACKOFF = wait_exponential(multiplier=0.5, max=_RELAUNCH_BACKOFF_MAX_SECONDS)

Launch = Callable[[BrowserConfig], Awaitable[Browser]]


class RecycleReason(StrEnum):
    RUNS = "runs"
    MEMORY = "memory"


@dataclass
class _Generation:
    """One launched Chromium and what it has served."""

    browser: Browser
    root_pid: int | None  # its browser process, found in /proc; None: not ours to measure
    runs: int = 0
    making: int = 0  # contexts being made on it right now (not yet in browser.contexts)
    over_budget: bool = False
    retired_at: float | None = None
    closed: bool = False
    # contexts it had before any run: a Chromium reached over CDP lists its default one
    # for good; only those the agent made tell whether runs still use it
    found: frozenset[BrowserContext] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        self.found = frozenset(self.browser.contexts)

    @property
    def in_use(self) -> int:
        return sum(context not in self.found for context in self.browser.contexts)

    @property
    def idle(self) -> bool:
        return self.making == 0 and self.in_use == 0


class BrowserKeeper:
    """Hands out a live browser per new context (see ``browser.ContextFactory``)."""

    reconnects = True  # a lost browser is started again, or reconnected, by the next tick

    def __init__(
        self,
        launch: Launch,
        config: BrowserConfig,
        *,
        on_up: Callable[[bool], None] = lambda _up: None,
        on_restart: Callable[[], None] = lambda: None,
        on_recycle: Callable[[RecycleReason], None] = lambda _reason: None,
        tree_rss: Callable[[int], int] = tree_rss_bytes,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._launch_browser = launch
        self._config = config
        self._on_up = on_up
        self._on_restart = on_restart
        self._on_recycle = on_recycle
        self._tree_rss = tree_rss
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._current: _Generation | None = None
        self._launching: asyncio.Task[_Generation] | None = None
        self._retired: list[_Generation] = []
        self._background: set[asyncio.Task[None]] = set()
        self._next_memory_check = 0.0
        self._relaunching: asyncio.Task[None] | None = None
        self._failure: BrowserUnavailableError | None = None  # the last start's, until one works

    def configure(self, config: BrowserConfig) -> None:
        """A reloaded config: its limits count from now on, its flags at the next launch.
        A changed ``remote`` is tried at once: the runs due meanwhile must not keep failing
        with the old URL's refusal until its backoff (up to 30 s) runs out."""
        changed = config.remote != self._config.remote
        self._config = config
        if changed and self._relaunching is not None and not self._relaunching.done():
            self._relaunching.cancel()  # the next maintain() starts one with the new setting
            self._failure = None

    async def start(self) -> None:
        """Launch the first browser; a failure here (no Chromium) ends ``serve`` at once.
        A remote browser server may well come up after the agent (pods start in any
        order): until it answers, the agent runs, not ready, and connects as after a loss."""
        try:
            await self._live()
        except BrowserUnavailableError as exc:
            if self._config.remote is None:
                raise
            log.error("%s%s; connecting again until it answers", _lasting(exc), exc)

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[Browser]:
        """A live browser to make one new context on, counted as one run of it. While the
        browser is being started again after a failed try, the run fails at once with that
        try's reason (``BrowserUnavailableError``): the retry's backoff alone decides when the
        next try comes, and no run waits out a connect that may hang."""
        failure = self._failure
        if failure is not None and self._relaunching is not None and not self._relaunching.done():
            raise BrowserUnavailableError(str(failure), lasting=failure.lasting)
        generation = await self._live()
        generation.runs += 1
        generation.making += 1
        try:
            yield generation.browser
        finally:
            generation.making -= 1

    def maintain(self) -> None:
        """Called from the scheduler's tick, never waiting: start a browser again when it has
        died (so the agent is ready again before the next run is due), mark the browser for
        recycling above its memory budget, and close replaced browsers once idle."""
        current = self._current
        dead = current is None or not current.browser.is_connected()
        relaunching = self._relaunching is not None and not self._relaunching.done()
        if dead and not relaunching and not self._lock.locked():
            self._relaunching = asyncio.ensure_future(self._relaunch_quietly())
        self._check_memory()
        self._close_idle()

    async def close(self) -> None:
        """Close every browser (the agent is stopping, its runs have ended or been aborted)."""
        if self._relaunching is not None:  # it may be waiting for a server that never comes
            self._relaunching.cancel()
            await asyncio.gather(self._relaunching, return_exceptions=True)
        await asyncio.gather(*self._background, return_exceptions=True)
        async with self._lock:
            if self._launching is not None:
                await asyncio.gather(self._launching, return_exceptions=True)
            generations = [*self._retired, *([self._current] if self._current else [])]
            self._current, self._retired = None, []
        self._on_up(False)
        for generation in generations:
            await self._close(generation)

    # --- inside ----------------------------------------------------------------------------

    async def _live(self) -> _Generation:
        async with self._lock:
            current = self._current
            if current is not None and not current.browser.is_connected():
                log.warning("%s", self._gone_text())
                self._on_restart()
                self._retire(current)
                current = self._current = None
            if current is not None:
                reason = self._recycle_reason(current)
                if reason is None:
                    return current
                log.info(
                    "starting a fresh browser: the current one %s; it closes when its "
                    "%d run(s) in flight end",
                    _REASON_TEXT[reason],
                    current.in_use,
                )
                self._on_recycle(reason)
                self._retire(current)
                self._current = None
            if self._launching is None or self._launching.done():
                self._launching = asyncio.ensure_future(self._launch())
                self._launching.add_done_callback(_retrieve)
            # shielded: a run whose step deadline cancels its wait must not abort the launch
            # that the next run will use
            return await asyncio.shield(self._launching)

    def _recycle_reason(self, generation: _Generation) -> RecycleReason | None:
        """Memory first when both apply: a browser outgrowing its budget is the news. A
        Chromium reached over CDP is never recycled for its runs: connecting again reaches
        the same browser process, so nothing would be fresh (a Playwright server launches
        a new browser per connection: that one is)."""
        if generation.over_budget:
            return RecycleReason.MEMORY
        remote = self._config.remote
        if remote is not None and remote.protocol is RemoteProtocol.CDP:
            return None
        if generation.runs >= self._config.recycle_after_runs:
            return RecycleReason.RUNS
        return None

    async def _launch(self) -> _Generation:
        try:
            if self._config.remote is not None:  # not ours: nothing in /proc to measure
                generation = _Generation(await self._launch_browser(self._config), None)
            else:
                generation = await self._launch_local()
        except BrowserUnavailableError as exc:
            self._failure = exc
            raise
        self._failure = None
        browser = generation.browser
        browser.on("disconnected", lambda _browser: self._disconnected(generation))
        self._current = generation
        self._on_up(True)
        return generation

    async def _launch_local(self) -> _Generation:
        before = set(chromium_roots(read_tree(os.getpid()), os.getpid()))
        browser = await self._launch_browser(self._config)
        started = [
            pid for pid in chromium_roots(read_tree(os.getpid()), os.getpid()) if pid not in before
        ]
        generation = _Generation(browser, started.pop() if len(started) == 1 else None)
        if generation.root_pid is None and self._config.recycle_above_mib is not None:
            log.warning(
                "cannot tell which processes are the new browser's; "
                "browser.recycle_above_mib does not apply to it"
            )
        return generation

    def _disconnected(self, generation: _Generation) -> None:
        if generation is self._current:
            self._on_up(False)

    def _gone_text(self) -> str:
        remote = self._config.remote
        if remote is None:
            return "the browser is gone (crashed or killed); starting it again"
        return lost_connection(remote, reconnecting=True)

    async def _relaunch_quietly(self) -> None:
        """Start the browser again until it starts, waiting longer after each failure; runs
        due meanwhile try too, and report why it failed."""
        retrying = AsyncRetrying(
            wait=_backoff,
            retry=retry_if_exception_type(Exception),
            before_sleep=_log_failed_start,
            sleep=self._sleep,
        )
        async for attempt in retrying:
            with attempt:
                await self._live()

    def _retire(self, generation: _Generation) -> None:
        generation.retired_at = self._monotonic()
        self._retired.append(generation)
        self._close_idle()

    def _check_memory(self) -> None:
        budget = self._config.recycle_above_mib
        current = self._current
        now = self._monotonic()
        if budget is None or current is None or current.root_pid is None:
            return
        if current.over_budget or current.runs == 0 or now < self._next_memory_check:
            return  # a fresh browser is not judged: it cannot get smaller by starting again
        self._next_memory_check = now + _MEMORY_CHECK_SECONDS
        rss = self._tree_rss(current.root_pid)
        if rss > budget * 1024 * 1024:
            log.info(
                "the browser uses %.0f MiB, over browser.recycle_above_mib (%d MiB)",
                rss / 1024 / 1024,
                budget,
            )
            current.over_budget = True

    def _close_idle(self) -> None:
        now = self._monotonic()
        for generation in list(self._retired):
            stale = now - (generation.retired_at or now) > _RETIRED_MAX_SECONDS
            if generation.idle or stale or not generation.browser.is_connected():
                self._retired.remove(generation)
                self._spawn(self._close(generation))

    async def _close(self, generation: _Generation) -> None:
        if generation.closed:
            return
        generation.closed = True
        with contextlib.suppress(Exception):  # already gone is as good as closed
            await asyncio.wait_for(generation.browser.close(), _CLOSE_SECONDS)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _backoff(state: RetryCallState) -> float:
    """0.5 s, 1 s, 2 s, ... up to the most; a server that refused the agent (it will not
    change its mind soon) is asked again only that often."""
    if _failure_of(state) is not None and _lasting(_failure_of(state)):
        return _RELAUNCH_BACKOFF_MAX_SECONDS
    return float(_BACKOFF(state))


def _log_failed_start(state: RetryCallState) -> None:
    """Every failed try is logged, with when the next one comes: a remote browser server
    may be down for minutes, and the log says the agent is on it."""
    error = _failure_of(state)
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.error(
        "%scould not start the browser again: %s; trying again in %.1fs",
        _lasting(error),
        error,
        wait,
    )


def _failure_of(state: RetryCallState) -> BaseException | None:
    outcome = state.outcome
    return outcome.exception() if outcome is not None else None


def _lasting(error: BaseException | None) -> str:
    """How a log line starts when the browser server refused the agent: no amount of
    waiting mends that (a wrong path, another Playwright version), a person has to."""
    if isinstance(error, BrowserUnavailableError) and error.lasting:
        return "the browser server refuses the agent, which will not pass by itself: "
    return ""


def _retrieve(task: asyncio.Task[_Generation]) -> None:
    """A failed launch whose waiter was cancelled is reported by the next run, not as an
    'exception was never retrieved' at exit."""
    if not task.cancelled():
        task.exception()


_REASON_TEXT = {
    RecycleReason.RUNS: "has served browser.recycle_after_runs runs",
    RecycleReason.MEMORY: "is over browser.recycle_above_mib",
}
