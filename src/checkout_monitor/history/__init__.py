"""The run history: every finished journey run in an embedded SQLite file, for the status
page, the week-over-week alert rule and a person with the ``sqlite3`` command.

``serve`` records each run (``history:`` in the config); ``run-smoke --history PATH`` records
a CI run into the same kind of file. The schema is in ``schema.py`` and docs/history.md.

Writing (the agent and run-smoke do this; a broken database never stops a run)::

    recorder = HistoryRecorder(path, Retention(days=30, max_bytes=200 * 2**20), source="serve")
    recorder.record(result)     # now, waiting for the file; False if it could not, then
                                # recorder.problem says why (run-smoke)
    recorder.submit(result)     # to the recorder's writer thread, never waiting (serve)
    recorder.close()            # writes what is queued (bounded), then closes

Reading (``HistoryReader`` raises ``sqlite3.Error`` if the file is missing or broken)::

    from datetime import UTC, datetime, timedelta
    history = HistoryReader(path)
    now = datetime.now(UTC)
    history.journeys()                                   # ["guest-checkout", ...]
    history.latest_runs()["guest-checkout"].ok           # the latest run of each journey
    history.runs("guest-checkout", now - timedelta(hours=1))  # the newest 10,000 at most
    history.success_rate("guest-checkout", now - timedelta(days=7), source="serve")
    history.success_rate("guest-checkout", now - timedelta(days=7)).rate      # 0.97 or None
    last_week = history.success_rate(
        "guest-checkout", now - timedelta(days=14), now - timedelta(days=7),
        failure_classes={"site"},                        # count only the shop's failures
    )
    history.durations("guest-checkout", now - timedelta(days=1), bucket_seconds=3600)
    history.durations("guest-checkout", now - timedelta(days=1), step="pay")  # avg, p95, max
    history.incidents("guest-checkout", now - timedelta(days=7))  # failures in a row
    history.latest_failure("guest-checkout").evidence_folder
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from checkout_monitor.compat.lazy_names import lazy_getattr

if TYPE_CHECKING:
    from checkout_monitor.history.queries import (
        DurationBucket,
        HistoryReader,
        Incident,
        Run,
        Step,
        SuccessRate,
    )
    from checkout_monitor.history.reasons import WRITE_ERROR_REASONS
    from checkout_monitor.history.recorder import HistoryRecorder
    from checkout_monitor.history.schema import SCHEMA_VERSION
    from checkout_monitor.history.store import HistoryStore, Retention

# names load on first use: the metric families take WRITE_ERROR_REASONS without the writer
_HOMES = {
    "SCHEMA_VERSION": ".schema",
    "WRITE_ERROR_REASONS": ".reasons",
    "DurationBucket": ".queries",
    "HistoryReader": ".queries",
    "HistoryRecorder": ".recorder",
    "HistoryStore": ".store",
    "Incident": ".queries",
    "Retention": ".store",
    "Run": ".queries",
    "Step": ".queries",
    "SuccessRate": ".queries",
}

__all__ = [
    "SCHEMA_VERSION",
    "WRITE_ERROR_REASONS",
    "DurationBucket",
    "HistoryReader",
    "HistoryRecorder",
    "HistoryStore",
    "Incident",
    "Retention",
    "Run",
    "Step",
    "SuccessRate",
]


__getattr__ = lazy_getattr(__name__, _HOMES, globals())
