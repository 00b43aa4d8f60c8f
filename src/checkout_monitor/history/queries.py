"""Reading the run history: what the status page and the week-over-week alert rule ask.

Times go in and come out as timezone-aware ``datetime``s (UTC out); the file stores Unix
seconds. Reads use their own read-only connection: in WAL mode they never block the writer,
and each query is one short statement or two. ``source`` and ``location`` narrow most queries
to the agent's runs (``"serve"``) or one place, when run-smoke runs share the file; None
takes all.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from checkout_monitor.history.schema import connect


@dataclass(frozen=True)
class Step:
    position: int
    name: str
    status: str  # passed, failed or skipped
    duration_seconds: float
    failure_kind: str | None


@dataclass(frozen=True)
class Run:
    """One recorded journey run; ``steps`` are filled by ``HistoryReader.run`` only."""

    id: int
    journey: str
    storefront: str
    location: str
    started_at: datetime
    finished_at: datetime
    status: str  # passed, failed or skipped (every step skipped: checked nothing)
    ok: bool  # no step failed (true for a skipped run too)
    duration_seconds: float
    attempt: int
    failure_class: str | None
    failure_kind: str | None
    failed_step: str | None
    message: str
    evidence_folder: str | None  # relative to the artifacts folder; pruned with it
    release: str | None
    source: str  # serve or run-smoke
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class SuccessRate:
    """Checked runs in a window: skipped runs count in neither ``passed`` nor ``failed``."""

    passed: int
    failed: int

    @property
    def runs(self) -> int:
        return self.passed + self.failed

    @property
    def rate(self) -> float | None:
        """passed / runs, or None with no runs to judge."""
        return self.passed / self.runs if self.runs else None


@dataclass(frozen=True)
class DurationBucket:
    """Durations of the checked runs (or one step) that finished in [start, start + width)."""

    start: datetime
    count: int
    average: float
    p95: float  # nearest-rank 95th percentile
    maximum: float


@dataclass(frozen=True)
class Incident:
    """Failed runs of a journey in a row, with no passing run between them."""

    journey: str
    started_at: datetime  # when the first failed run started
    ended_at: datetime | None  # when the first passing run after it finished; None: ongoing
    runs_failed: int
    failure_kinds: tuple[str, ...]  # in the order they first appeared
    last_message: str
    last_run_id: int
    last_evidence_folder: str | None

    @property
    def ongoing(self) -> bool:
        return self.ended_at is None


RUNS_LIMIT = 10_000  # runs() returns at most this many: the newest of the window

_RUN_COLUMNS = (
    "id, journey, storefront, location, started_at, finished_at, status, ok, "
    "duration_seconds, attempt, failure_class, failure_kind, failed_step, message, "
    "evidence_folder, release, source"
)


class HistoryReader:
    """Read-only queries on a history database; safe to share between threads.

    Raises ``sqlite3.Error`` (e.g. the file is missing or not a database); a caller that
    must not fail (the status page) shows that instead of the history.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection = connect(path, read_only=True)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._connection.close()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """The queries inside read one state of the file: a page built from several
        queries never mixes runs written between them (WAL keeps the writer going)."""
        with self._lock:
            self._connection.execute("BEGIN")
            # a read transaction takes its snapshot at its first read, not at BEGIN
            self._connection.execute("SELECT count(*) FROM runs WHERE 0").fetchall()
        try:
            yield
        finally:
            with self._lock:
                self._connection.execute("COMMIT")

    def journeys(self) -> list[str]:
        """Every journey with a run in the history, by name."""
        rows = self._rows("SELECT DISTINCT journey FROM runs ORDER BY journey")
        return [row[0] for row in rows]

    def latest_runs(
        self, *, source: str | None = None, location: str | None = None
    ) -> dict[str, Run]:
        """Each journey's latest run, by journey name."""
        where, args = _scope(source, location)
        rows = self._rows(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE id IN "
            f"(SELECT max(id) FROM runs WHERE 1 {where} GROUP BY journey) ORDER BY journey",
            args,
        )
        return {row[1]: _run(row) for row in rows}

    def runs(
        self,
        journey: str,
        since: datetime,
        until: datetime | None = None,
        limit: int = RUNS_LIMIT,
        *,
        source: str | None = None,
        location: str | None = None,
    ) -> list[Run]:
        """The journey's runs that finished in [since, until), oldest first: the newest
        ``limit`` of them when there are more (a window's start is what gets cut)."""
        where, args = _scope(source, location)
        rows = self._rows(
            f"SELECT * FROM (SELECT {_RUN_COLUMNS} FROM runs WHERE journey = ? "
            f"AND finished_at >= ? AND finished_at < ? {where} "
            "ORDER BY finished_at DESC, id DESC LIMIT ?) ORDER BY finished_at, id",
            (journey, _ts(since), _until(until), *args, limit),
        )
        return [_run(row) for row in rows]

    def run(self, run_id: int) -> Run | None:
        """One run with its steps."""
        rows = self._rows(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        if not rows:
            return None
        steps = self._rows(
            "SELECT position, name, status, duration_seconds, failure_kind FROM steps "
            "WHERE run_id = ? ORDER BY position",
            (run_id,),
        )
        return replace(_run(rows[0]), steps=tuple(Step(*step) for step in steps))

    def success_rate(
        self,
        journey: str,
        since: datetime,
        until: datetime | None = None,
        *,
        failure_classes: Collection[str] | None = None,
        source: str | None = None,
        location: str | None = None,
    ) -> SuccessRate:
        """Passed and failed runs finished in [since, until). ``failure_classes``: count only
        failures of these classes (e.g. ``{"site"}``, as alert rules do); others are left out."""
        counted = "status = 'failed'"
        classes: list[str] = []
        if failure_classes is not None:
            classes = sorted(failure_classes)
            counted += f" AND failure_class IN ({', '.join('?' * len(classes))})"
        where, args = _scope(source, location)
        row = self._rows(
            f"SELECT sum(status = 'passed'), sum({counted}) FROM runs "
            f"WHERE journey = ? AND finished_at >= ? AND finished_at < ? {where}",
            (*classes, journey, _ts(since), _until(until), *args),
        )[0]
        return SuccessRate(passed=int(row[0] or 0), failed=int(row[1] or 0))

    def durations(
        self,
        journey: str,
        since: datetime,
        until: datetime | None = None,
        *,
        bucket_seconds: float = 3600,
        step: str | None = None,
        source: str | None = None,
        location: str | None = None,
    ) -> list[DurationBucket]:
        """Durations of the journey (or of one ``step``) per time bucket, for a chart.

        Only checked runs and steps count (a skipped one measured nothing); buckets with no
        run are left out. Buckets start at multiples of ``bucket_seconds`` since the epoch."""
        # Bucketed, counted and ranked in SQLite: a 30-day chart over a busy history is
        # 100,000s of rows that Python need not see. CAST truncates: the floor of a positive.
        where, scope = _scope(source, location, "runs.")
        if step is None:
            rows = (
                "SELECT CAST(finished_at / ? AS INTEGER) AS bucket, duration_seconds AS d "
                "FROM runs WHERE journey = ? AND finished_at >= ? AND finished_at < ? "
                f"AND status != 'skipped' {where}"
            )
            args: tuple[Any, ...] = (bucket_seconds, journey, _ts(since), _until(until), *scope)
        else:
            rows = (
                "SELECT CAST(runs.finished_at / ? AS INTEGER) AS bucket, "
                "steps.duration_seconds AS d FROM runs "
                "JOIN steps ON steps.run_id = runs.id WHERE runs.journey = ? "
                "AND runs.finished_at >= ? AND runs.finished_at < ? AND steps.name = ? "
                f"AND steps.status != 'skipped' {where}"
            )
            args = (bucket_seconds, journey, _ts(since), _until(until), step, *scope)
        # nearest rank, as _bucket: the ceil(0.95 n)-th smallest, in integers (95 n + 99) / 100
        sql = (
            "SELECT bucket, count(*), sum(d), max(d), "
            "max(CASE WHEN rank = (95 * n + 99) / 100 THEN d END) FROM ("
            "SELECT bucket, d, row_number() OVER (PARTITION BY bucket ORDER BY d) AS rank, "
            f"count(*) OVER (PARTITION BY bucket) AS n FROM ({rows})"
            ") GROUP BY bucket ORDER BY bucket"
        )
        return [
            DurationBucket(
                start=_time(index * bucket_seconds),
                count=count,
                average=total / count,
                p95=p95,
                maximum=maximum,
            )
            for index, count, total, maximum, p95 in self._rows(sql, args)
        ]

    def _duration_rows(
        self,
        journey: str,
        since: datetime,
        until: datetime | None,
        step: str | None,
        source: str | None = None,
        location: str | None = None,
        failure_classes: Collection[str] | None = None,
    ) -> list[tuple[Any, ...]]:
        """(finished_at, duration) of the checked runs, or of one step, oldest first;
        ``failure_classes``: of the failed runs, only those of these classes."""
        where, scope = _scope(source, location, "runs.")
        if failure_classes is not None:
            classes = sorted(failure_classes)
            where += (
                " AND (runs.status != 'failed' OR runs.failure_class IN "
                f"({', '.join('?' * len(classes))}))"
            )
            scope = (*scope, *classes)
        if step is None:
            sql = (
                "SELECT finished_at, duration_seconds FROM runs WHERE journey = ? "
                f"AND finished_at >= ? AND finished_at < ? AND status != 'skipped' {where}"
            )
            args: tuple[Any, ...] = (journey, _ts(since), _until(until), *scope)
        else:
            sql = (
                "SELECT runs.finished_at, steps.duration_seconds FROM runs "
                "JOIN steps ON steps.run_id = runs.id WHERE runs.journey = ? "
                "AND runs.finished_at >= ? AND runs.finished_at < ? AND steps.name = ? "
                f"AND steps.status != 'skipped' {where}"
            )
            args = (journey, _ts(since), _until(until), step, *scope)
        return self._rows(sql + " ORDER BY 1", args)

    def duration_summary(
        self,
        journey: str,
        since: datetime,
        until: datetime,
        *,
        step: str | None = None,
        source: str | None = None,
        location: str | None = None,
        failure_classes: Collection[str] | None = None,
    ) -> DurationBucket | None:
        """All durations of [since, until) as one bucket (the week-over-week latency rule's
        p95); None with no checked run or step in it. ``failure_classes``: runs that failed
        for other classes are left out (as ``p95_above`` leaves them out)."""
        rows = self._duration_rows(journey, since, until, step, source, location, failure_classes)
        return _bucket(_ts(since), [duration for _finished, duration in rows]) if rows else None

    def step_names(
        self,
        journey: str,
        since: datetime,
        until: datetime | None = None,
        *,
        source: str | None = None,
        location: str | None = None,
    ) -> list[str]:
        """The steps the journey ran in the window, in the order they run."""
        where, args = _scope(source, location, "runs.")
        rows = self._rows(
            "SELECT steps.name FROM steps JOIN runs ON steps.run_id = runs.id "
            f"WHERE runs.journey = ? AND runs.finished_at >= ? AND runs.finished_at < ? {where} "
            "GROUP BY steps.name ORDER BY min(steps.position), steps.name",
            (journey, _ts(since), _until(until), *args),
        )
        return [row[0] for row in rows]

    def incidents(
        self,
        journey: str,
        since: datetime,
        until: datetime | None = None,
        *,
        source: str | None = None,
        location: str | None = None,
    ) -> list[Incident]:
        """Periods of consecutive failed runs that touch [since, until), oldest first.

        An incident already going at ``since`` is reported whole (from its first failed
        run); skipped runs neither end nor extend one."""
        where, args = _scope(source, location)
        anchor = self._rows(
            "SELECT max(finished_at) FROM runs WHERE journey = ? AND status = 'passed' "
            f"AND finished_at < ? {where}",
            (journey, _ts(since), *args),
        )[0][0]
        # Only failed runs and the passed runs that end them: a month of passing runs
        # between incidents changes nothing below, and is most of the rows.
        rows = self._rows(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE id IN (SELECT id FROM ("
            "SELECT id, status, lag(status) OVER (ORDER BY finished_at, id) AS before "
            "FROM runs WHERE journey = ? AND finished_at >= ? AND finished_at < ? "
            f"AND status != 'skipped' {where}) WHERE status = 'failed' OR before = 'failed') "
            "ORDER BY finished_at, id",
            (journey, anchor if anchor is not None else 0.0, _until(until), *args),
        )
        incidents: list[Incident] = []
        failed: list[Run] = []
        for run in map(_run, rows):
            if run.status == "failed":
                failed.append(run)
            elif failed:
                incidents.append(_incident(failed, run.finished_at))
                failed = []
        if failed:
            incidents.append(_incident(failed, None))
        return incidents

    def latest_failure(
        self,
        journey: str | None = None,
        *,
        source: str | None = None,
        location: str | None = None,
    ) -> Run | None:
        """The latest failed run (of one journey, or of any), with its evidence folder."""
        where, args = _scope(source, location)
        if journey:
            where, args = f"AND journey = ? {where}", (journey, *args)
        rows = self._rows(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE status = 'failed' {where} "
            "ORDER BY finished_at DESC, id DESC LIMIT 1",
            args,
        )
        return _run(rows[0]) if rows else None

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._connection.execute(sql, args).fetchall()


def _scope(
    source: str | None, location: str | None, table: str = ""
) -> tuple[str, tuple[str, ...]]:
    """The ``AND ...`` that narrows a query to one source and/or location (None: any)."""
    clauses: list[str] = []
    args: list[str] = []
    for column, value in (("source", source), ("location", location)):
        if value is not None:
            clauses.append(f"AND {table}{column} = ?")
            args.append(value)
    return " ".join(clauses), tuple(args)


def _ts(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone: pass an aware datetime")
    return moment.timestamp()


def _until(moment: datetime | None) -> float:
    return math.inf if moment is None else _ts(moment)


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _run(row: tuple[Any, ...]) -> Run:
    values = list(row)
    values[4], values[5] = _time(values[4]), _time(values[5])
    values[7] = bool(values[7])
    return Run(*values)


def _bucket(start: float, values: list[float]) -> DurationBucket:
    ordered = sorted(values)
    rank = max(1, math.ceil(0.95 * len(ordered)))
    return DurationBucket(
        start=_time(start),
        count=len(ordered),
        average=sum(ordered) / len(ordered),
        p95=ordered[rank - 1],
        maximum=ordered[-1],
    )


def _incident(failed: list[Run], ended_at: datetime | None) -> Incident:
    kinds = tuple(dict.fromkeys(run.failure_kind for run in failed if run.failure_kind))
    last = failed[-1]
    return Incident(
        journey=last.journey,
        started_at=failed[0].started_at,
        ended_at=ended_at,
        runs_failed=len(failed),
        failure_kinds=kinds,
        last_message=last.message,
        last_run_id=last.id,
        last_evidence_folder=last.evidence_folder,
    )
