"""``week_over_week_drop_above``: a journey's last ``window`` against the same window exactly a
week earlier, read from the run history (the recent runs in memory hold no week).

Two measures, one condition: without ``step``, the success rate's relative drop (0.2: it fell
by more than 20% of last week's rate, as the Prometheus rule ``checkout-monitor rules``
writes); with ``step``, that step's p95 latency's relative rise (nearest rank, over the same
runs as ``p95_above``: passes and failures of the rule's classes). Both windows need
``min_runs`` runs, or there is no verdict. Only the agent's own runs count (source ``serve``,
the config's location): run-smoke's CI runs and other agents' runs in the same file do not.

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
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from checkout_monitor.alerting.conditions import Measurement
from checkout_monitor.config.alerting import AlertRule
from checkout_monitor.evidence.redaction import redact
from checkout_monitor.failure_kinds import FailureClass
from checkout_monitor.history.queries import DurationBucket, HistoryReader
from checkout_monitor.text.durations import format_duration

log = logging.getLogger("checkout_monitor.alerting.engine")  # the name logs and filters know
WEEK = timedelta(days=7)
SOURCE = "serve"  # the agent's own runs; run-smoke --history may write the same file
QUERY_EVERY = 60.0  # seconds between two reads of the history for one (rule, journey);
# a window shorter than that is read once a window, or it would judge only every other one


def measure_week_over_week(
    rule: AlertRule, history: HistoryReader, journey: str, now: float, *, location: str
) -> Measurement:
    """The drop (or, with ``step``, the rise) as a fraction of last week's value, over the
    runs ``serve`` recorded at ``location``.

    Raises ``sqlite3.Error`` when the history cannot be read."""
    end = datetime.fromtimestamp(now, UTC)
    window = timedelta(seconds=rule.window or 0)
    this_week, last_week = (end - window, end), (end - WEEK - window, end - WEEK)
    # the runs a rule judges: passes and failures of its classes, the agent's own
    classes = {c.value for c in rule.classes}
    if rule.step is not None:
        p95 = partial(
            history.duration_summary,
            journey,
            step=rule.step,
            failure_classes=classes,
            source=SOURCE,
            location=location,
        )
        return _latency(rule, journey, p95(*this_week), p95(*last_week))
    rate = partial(
        history.success_rate, journey, failure_classes=classes, source=SOURCE, location=location
    )
    current, before = rate(*this_week), rate(*last_week)
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
        f"{before.rate:.0%} the same {span} last week ({_change(drop, 'drop')}"
        f"{_counting(rule.classes)}; the rule fires above {_percent(rule.threshold)})",
    )


def _latency(
    rule: AlertRule, journey: str, current: DurationBucket | None, before: DurationBucket | None
) -> Measurement:
    runs, runs_before = (current.count if current else 0), (before.count if before else 0)
    if current is None or before is None or min(runs, runs_before) < rule.min_runs:
        return _too_few(rule, runs, runs_before)
    # a step that took no time last week has nothing to rise from: no rise (as the Prometheus
    # rule, which leaves out a zero last week)
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


def unknown(text: str) -> Measurement:
    """Nothing read (yet): an alert keeps its state, pending ones too, until an answer."""
    return Measurement(None, False, False, text, unknown=True)


def _change(value: float, word: str) -> str:
    if value <= 0:
        return f"no {word}"
    percent = f"{value:.0%}"
    return f"{_article(percent)} {percent} {word}"  # "an 8% drop", "a 37% drop"


def _article(percent: str) -> str:
    """'an' where the number is said with a vowel sound first: eleven, eighteen, and every
    one that starts with an 8 (eight, eighty-two, eight hundred); 'a' for the rest."""
    return "an" if percent.startswith("8") or percent in ("11%", "18%") else "a"


def _counting(classes: Collection[FailureClass]) -> str:
    """Named when the rule leaves some failures out, so "succeeded 100%" is not read as
    "nothing failed"."""
    if set(classes) >= set(FailureClass):
        return ""
    return f", counting {' and '.join(sorted(c.value for c in classes))} failures only"


def _percent(value: float) -> str:
    return f"{value * 100:g}%"


def _span(seconds: float) -> str:
    """'hour' rather than '1h' where a word reads better: 'the same hour last week'."""
    words = {3600: "hour", 86400: "day"}
    return words.get(round(seconds), format_duration(seconds))


@dataclass(frozen=True)
class _Answer:
    measurement: Measurement
    newest_run: float | None  # finished_at of the newest run the read saw (None: none)


class WeekOverWeekChecks:
    """The latest week-over-week measurement of each (rule, journey), refreshed off the loop.

    ``measurement`` never blocks: it returns the last answer and, when one is due, asks the
    worker thread for a fresh one. A new answer is due ``QUERY_EVERY`` seconds (or the
    rule's window, if shorter) after the last, or at once after a run of the journey while
    the last answer had no verdict (a new run may be the one it lacked). The recorder
    commits a run in its own thread, maybe after that read: the run stays new, and the
    history is read again at each look, until an answer has seen it (or ``QUERY_EVERY``
    passed: a run the recorder could not write)."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._location = ""
        self._secrets: frozenset[str] = frozenset()
        self._rules: dict[str, AlertRule] = {}
        self._reader: HistoryReader | None = None  # used by the worker thread only
        self._answers: dict[str, Measurement] = {}
        self._asked: dict[str, float] = {}
        self._pending: dict[str, Future[_Answer]] = {}
        # keys whose journey ran since an answer saw it: (its finished_at, when it was seen)
        self._new_runs: dict[str, tuple[float, float]] = {}

    def configure(
        self,
        path: Path | None,
        rules: Mapping[str, AlertRule],
        *,
        location: str,
        secrets: frozenset[str] = frozenset(),
    ) -> None:
        """The history file to read (None: the history is off) and each key's rule. A
        reload keeps the answers of the keys whose rule, file and location are the same
        (asked again at once), so an alert waiting out its ``for:`` keeps waiting."""
        with self._lock:
            same_place = path is not None and (path, location) == (self._path, self._location)
            if path != self._path:
                self._path = path
                self._submit_close()
            kept = {
                key for key, rule in rules.items() if same_place and self._rules.get(key) == rule
            }
            self._location, self._secrets, self._rules = location, secrets, dict(rules)
            self._answers = {k: v for k, v in self._answers.items() if k in kept}
            self._pending = {k: v for k, v in self._pending.items() if k in kept}
            self._new_runs = {k: v for k, v in self._new_runs.items() if k in kept}
            self._asked.clear()  # every answer is due again: the file may have changed

    def observed(self, key: str, finished_at: float) -> None:
        """A run of the key's journey that finished at ``finished_at`` (Unix time)."""
        with self._lock:
            self._new_runs[key] = (finished_at, self._monotonic())

    def measurement(self, key: str, rule: AlertRule, journey: str, now: float) -> Measurement:
        with self._lock:
            if self._closed:
                return unknown("no verdict: alerting has stopped")
            if self._path is None:
                return no_history(
                    "the run history is disabled (history.enabled: false when the agent "
                    "started; a change takes a restart)"
                )
            pending = self._pending.get(key)
            if pending is not None and pending.done():
                del self._pending[key]
                self._take(key, _answer(pending))
                pending = None
            answer = self._answers.get(key)
            if pending is None and self._due(key, answer, min(QUERY_EVERY, rule.window or 0)):
                self._asked[key] = self._monotonic()
                self._pending[key] = self._worker().submit(
                    self._read, self._path, rule, journey, now, self._location, self._secrets
                )
            return answer or unknown("no verdict yet: reading the history")

    def close(self) -> None:
        """Stop the worker thread (waits for the read it is doing); later looks read nothing."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
            self._pending.clear()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        self._close_reader()  # the worker is gone: no read can be using it

    def _take(self, key: str, answer: _Answer) -> None:
        self._answers[key] = answer.measurement
        new = self._new_runs.get(key)
        if new is None:
            return
        finished_at, seen = new
        seen_it = answer.newest_run is not None and answer.newest_run >= finished_at
        if seen_it or self._monotonic() - seen >= QUERY_EVERY:
            del self._new_runs[key]

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

    def _read(
        self,
        path: Path,
        rule: AlertRule,
        journey: str,
        now: float,
        location: str,
        secrets: frozenset[str],
    ) -> _Answer:
        """In the worker thread: one measurement, or why the history could not give it."""
        try:
            if self._reader is None or self._reader.path != path:
                self._close_reader()
                self._reader = HistoryReader(path)
            newest = self._reader.runs(journey, _EPOCH, limit=1, source=SOURCE, location=location)
            measurement = measure_week_over_week(
                rule, self._reader, journey, now, location=location
            )
            return _Answer(measurement, newest[0].finished_at.timestamp() if newest else None)
        except (sqlite3.Error, OSError) as exc:
            self._close_reader()  # opened again next time: the file may be back by then
            # the path (and the error, which may repeat it) can hold a ${ENV} secret
            reason = redact(f"cannot read {path} ({exc})", secrets)
            return _Answer(replace(no_history(reason), unknown=True), None)


_EPOCH = datetime.fromtimestamp(0, UTC)


def _answer(future: Future[_Answer]) -> _Answer:
    try:
        return future.result()
    except Exception:  # a bug: said on /alerts and in the log, never a verdict
        log.exception("week-over-week: reading the run history failed (a bug)")
        return _Answer(unknown("no history: reading it failed (a bug; see the log)"), None)
