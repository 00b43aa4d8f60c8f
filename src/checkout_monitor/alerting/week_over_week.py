"""``week_over_week_drop_above``: a journey's last ``window`` against the same window exactly a
week earlier, read from the run history (the recent runs in memory hold no week).

Two measures, one condition: without ``step``, the success rate's relative drop (0.2: it fell
by more than 20% of last week's rate, as the Prometheus rule ``checkout-monitor rules``
writes); with ``step``, that step's p95 latency's relative rise (nearest rank, as
``p95_above``). Both windows need ``min_runs`` runs, or there is no verdict.

The history is read in one worker thread, at most once a minute per (rule, journey) (once a
window, for a window under a minute), so the agent's event loop never waits on the database
file; the engine applies the latest answer.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from checkout_monitor.alerting.conditions import Measurement
from checkout_monitor.config.alerting import AlertRule
from checkout_monitor.history.queries import HistoryReader
from checkout_monitor.text.durations import format_duration

log = logging.getLogger("checkout_monitor.alerting.engine")  # the name logs and filters know
WEEK = timedelta(days=7)
QUERY_EVERY = 60.0  # seconds between two reads of the history for one (rule, journey);
# a window shorter than that is read once a window, or it would judge only every other one


def measure_week_over_week(
    rule: AlertRule, history: HistoryReader, journey: str, now: float
) -> Measurement:
    """The drop (or, with ``step``, the rise) as a fraction of last week's value.

    Raises ``sqlite3.Error`` when the history cannot be read."""
    end = datetime.fromtimestamp(now, UTC)
    window = timedelta(seconds=rule.window or 0)
    if rule.step is not None:
        return _latency(rule, history, journey, end, window)
    classes = {c.value for c in rule.classes}
    current = history.success_rate(journey, end - window, end, failure_classes=classes)
    before = history.success_rate(journey, end - WEEK - window, end - WEEK, failure_classes=classes)
    if (
        current.rate is None
        or before.rate is None
        or min(current.runs, before.runs) < rule.min_runs
    ):
        return _too_few(rule, current.runs, before.runs)
    # with every run failed last week there is nothing to fall from: no drop
    drop = (before.rate - current.rate) / before.rate if before.rate else 0.0
    span = _span(rule.window or 0)
    return _judge(
        rule,
        drop,
        f"{journey} succeeded {current.rate:.0%} of runs in the last {span} against "
        f"{before.rate:.0%} the same {span} last week ({_change(drop, 'drop')}; "
        f"the rule fires above {_percent(rule.threshold)})",
    )


def _latency(
    rule: AlertRule, history: HistoryReader, journey: str, end: datetime, window: timedelta
) -> Measurement:
    current = history.duration_summary(journey, end - window, end, step=rule.step)
    before = history.duration_summary(journey, end - WEEK - window, end - WEEK, step=rule.step)
    runs, runs_before = (current.count if current else 0), (before.count if before else 0)
    if current is None or before is None or min(runs, runs_before) < rule.min_runs:
        return _too_few(rule, runs, runs_before)
    rise = (current.p95 - before.p95) / before.p95 if before.p95 > 0 else 0.0
    span = _span(rule.window or 0)
    return _judge(
        rule,
        rise,
        f"{journey} step {rule.step!r} took {format_duration(current.p95)} (p95) in the "
        f"last {span} against {format_duration(before.p95)} the same {span} last week "
        f"({_change(rise, 'rise')}; the rule fires above {_percent(rule.threshold)})",
    )


def _judge(rule: AlertRule, value: float, text: str) -> Measurement:
    breached = value > rule.threshold
    recovered = value < rule.resolve_below if rule.resolve_below is not None else not breached
    return Measurement(value, breached, recovered, text)


def _too_few(rule: AlertRule, runs: int, runs_before: int) -> Measurement:
    span = _span(rule.window or 0)
    return Measurement(
        None,
        False,
        False,
        f"no verdict: {runs} run{'s' * (runs != 1)} in the last {span} and {runs_before} the "
        f"same {span} last week (needs {rule.min_runs} in each)",
    )


def no_history(reason: str) -> Measurement:
    """Neither fires nor resolves: without the history the rule knows nothing."""
    return Measurement(None, False, False, f"no history: {reason}")


def _change(value: float, word: str) -> str:
    if value <= 0:
        return f"no {word}"
    percent = f"{value:.0%}"
    article = "an" if percent.startswith("8") or percent in ("11%", "18%") else "a"
    return f"{article} {percent} {word}"  # "an 8% drop", "an 18% drop", "a 37% drop"


def _percent(value: float) -> str:
    return f"{value * 100:g}%"


def _span(seconds: float) -> str:
    """'hour' rather than '1h' where a word reads better: 'the same hour last week'."""
    words = {3600: "hour", 86400: "day"}
    return words.get(round(seconds), format_duration(seconds))


class WeekOverWeekChecks:
    """The latest week-over-week measurement of each (rule, journey), refreshed off the loop.

    ``measurement`` never blocks: it returns the last answer and, when one is due, asks the
    worker thread for a fresh one. A new answer is due ``QUERY_EVERY`` seconds (or the
    rule's window, if shorter) after the last, or at once after a run of the journey while
    the last answer had no verdict (a new run may be the one it lacked)."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._reader: HistoryReader | None = None  # used by the worker thread only
        self._answers: dict[str, Measurement] = {}
        self._asked: dict[str, float] = {}
        self._pending: dict[str, Future[Measurement]] = {}
        self._new_runs: set[str] = set()  # keys whose journey ran since their last answer

    def configure(self, path: Path | None) -> None:
        """The history file to read; None: the history is disabled."""
        with self._lock:
            if path != self._path:
                self._path = path
                self._submit_close()
            # the rules may have changed: every answer is asked again, none in flight kept
            self._answers.clear()
            self._asked.clear()
            self._pending.clear()

    def observed(self, key: str) -> None:
        with self._lock:
            self._new_runs.add(key)

    def measurement(self, key: str, rule: AlertRule, journey: str, now: float) -> Measurement:
        with self._lock:
            pending = self._pending.get(key)
            if pending is not None and pending.done():
                del self._pending[key]
                self._answers[key] = _answer(pending)
                pending = None
            answer = self._answers.get(key)
            if self._path is None:
                return no_history("the run history is disabled (history.enabled: false)")
            if pending is None and self._due(key, answer, min(QUERY_EVERY, rule.window or 0)):
                self._asked[key] = self._monotonic()
                self._new_runs.discard(key)
                self._pending[key] = self._worker().submit(
                    self._read, self._path, rule, journey, now
                )
            return answer or Measurement(None, False, False, "no verdict yet: reading the history")

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
            self._pending.clear()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        self._close_reader()  # the worker is gone: no read can be using it

    def _due(self, key: str, answer: Measurement | None, every: float) -> bool:
        asked = self._asked.get(key)
        if asked is None or self._monotonic() - asked >= every:
            return True
        return key in self._new_runs and (answer is None or answer.value is None)

    def _worker(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="week-over-week")
        return self._executor

    def _submit_close(self) -> None:
        """Close the reader in the thread that uses it, after the reads queued before."""
        if self._executor is not None:
            self._executor.submit(self._close_reader)

    def _close_reader(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            with contextlib.suppress(sqlite3.Error):  # already broken: nothing left to lose
                reader.close()

    def _read(self, path: Path, rule: AlertRule, journey: str, now: float) -> Measurement:
        """In the worker thread: one measurement, or why the history could not give it."""
        try:
            if self._reader is None or self._reader.path != path:
                self._close_reader()
                self._reader = HistoryReader(path)
            return measure_week_over_week(rule, self._reader, journey, now)
        except (sqlite3.Error, OSError) as exc:
            self._close_reader()  # opened again next time: the file may be back by then
            return no_history(f"cannot read {path} ({exc})")


def _answer(future: Future[Measurement]) -> Measurement:
    try:
        return future.result()
    except Exception:  # a bug: said on /alerts and in the log, never a verdict
        log.exception("week-over-week: reading the run history failed (a bug)")
        return no_history("reading it failed (a bug; see the log)")
