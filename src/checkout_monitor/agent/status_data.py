"""What the status page shows, read from the config's journeys and the run history.

A history that cannot be read is a banner, never an error page: the journeys of the config
are still listed, with no runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from checkout_monitor.agent.evidence_files import PREFIX, evidence_path
from checkout_monitor.evidence.recorder import HTML, SCREENSHOT, TRACE
from checkout_monitor.evidence.redaction import redact
from checkout_monitor.history import DurationBucket, HistoryReader, Incident, Run, SuccessRate

# The ranges a person picks from, each with a bucket width that gives a readable chart.
RANGES: dict[str, tuple[timedelta, int]] = {
    "1h": (timedelta(hours=1), 60),
    "24h": (timedelta(days=1), 15 * 60),
    "7d": (timedelta(days=7), 3 * 3600),
    "30d": (timedelta(days=30), 12 * 3600),
}
DEFAULT_RANGE = "24h"
SOURCE = "serve"  # the agent's own runs; run-smoke --history may share the file
_NO_RUNS = SuccessRate(passed=0, failed=0)


@dataclass(frozen=True)
class JourneyInfo:
    """A configured journey, as the page names it."""

    name: str
    owner: str | None = None
    runbook: str | None = None


@dataclass(frozen=True)
class JourneyStatus:
    info: JourneyInfo
    latest: Run | None = None
    failing_since: datetime | None = None
    day: SuccessRate = _NO_RUNS
    week: SuccessRate = _NO_RUNS
    chart: list[DurationBucket] = field(default_factory=list)
    step_charts: list[tuple[str, list[DurationBucket]]] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)


@dataclass(frozen=True)
class Evidence:
    """The latest failure and links to its files that exist (by file name)."""

    run: Run
    links: dict[str, str]


@dataclass(frozen=True)
class StatusData:
    now: datetime
    range_name: str
    since: datetime
    bucket_seconds: int
    journeys: list[JourneyStatus]
    problems: list[str]
    latest_failure: Evidence | None
    detail: str | None  # the journey of a detail view


def assemble(
    journeys: Sequence[JourneyInfo],
    history_path: Path | None,
    history_problem: str | None,
    artifacts_root: Path,
    now: datetime,
    range_name: str = DEFAULT_RANGE,
    detail: str | None = None,
    secrets: Iterable[str] = (),
    location: str | None = None,
) -> StatusData:
    """Everything the page shows; ``detail``: one journey, with a chart per step.

    Only the agent's own runs (``source="serve"``, at ``location``; None: any location)
    count: a run-smoke run recorded in the same file after a deploy never makes a journey
    "failing since", nor changes its rates, incidents or charts.

    ``secrets`` (the config's ``${ENV}`` values) are redacted from every text the config or
    the history gives: an owner or runbook URL may hold a token, and the history's texts
    were redacted with the secrets of whichever config wrote them."""
    secrets = frozenset(secrets)
    span, bucket = RANGES[range_name]
    since = now - span
    shown = [_info(info, secrets) for info in journeys if detail is None or info.name == detail]
    problems = [redact(history_problem, secrets)] if history_problem else []
    statuses = [JourneyStatus(info) for info in shown]
    failure: Evidence | None = None
    if history_path is not None and history_path.exists():
        try:
            reader = HistoryReader(history_path)
            scope = _Scope(reader, location)
            try:
                with reader.snapshot():  # one page view, one state of the history
                    latest = reader.latest_runs(source=SOURCE, location=location)
                    statuses = [
                        _redacted_status(
                            _status(scope, info, latest.get(info.name), now, since, bucket, detail),
                            secrets,
                        )
                        for info in shown
                    ]
                    run = reader.latest_failure(detail, source=SOURCE, location=location)
                if run is not None:
                    links = _links(artifacts_root, run.evidence_folder)
                    failure = Evidence(_redacted_run(run, secrets), links)
            finally:
                reader.close()
        except sqlite3.Error as exc:
            problem = f"the run history in {history_path} cannot be read: {exc}"
            problems.append(redact(problem, secrets))
    return StatusData(now, range_name, since, bucket, statuses, problems, failure, detail)


class _Scope:
    """The reader's queries narrowed to the agent's own runs."""

    def __init__(self, reader: HistoryReader, location: str | None) -> None:
        self.reader = reader
        self.location = location

    def incidents(self, journey: str, since: datetime) -> list[Incident]:
        return self.reader.incidents(journey, since, source=SOURCE, location=self.location)

    def success_rate(self, journey: str, since: datetime) -> SuccessRate:
        return self.reader.success_rate(journey, since, source=SOURCE, location=self.location)

    def durations(
        self, journey: str, since: datetime, bucket: int, step: str | None = None
    ) -> list[DurationBucket]:
        return self.reader.durations(
            journey, since, bucket_seconds=bucket, step=step, source=SOURCE, location=self.location
        )

    def step_names(self, journey: str, since: datetime) -> list[str]:
        return self.reader.step_names(journey, since, source=SOURCE, location=self.location)


def _status(
    scope: _Scope,
    info: JourneyInfo,
    latest: Run | None,
    now: datetime,
    since: datetime,
    bucket: int,
    detail: str | None,
) -> JourneyStatus:
    failing_since = None
    if latest is not None and latest.status != "passed":
        # a skipped latest run neither ends nor hides an incident still going
        ongoing = [i for i in scope.incidents(info.name, latest.finished_at) if i.ongoing]
        if ongoing:
            failing_since = ongoing[-1].started_at
        elif latest.status == "failed":
            failing_since = latest.started_at
    steps: list[tuple[str, list[DurationBucket]]] = []
    if detail is not None:
        steps = [
            (step, scope.durations(info.name, since, bucket, step))
            for step in scope.step_names(info.name, since)
        ]
    return JourneyStatus(
        info=info,
        latest=latest,
        failing_since=failing_since,
        day=scope.success_rate(info.name, now - timedelta(days=1)),
        week=scope.success_rate(info.name, now - timedelta(days=7)),
        chart=scope.durations(info.name, since, bucket),
        step_charts=steps,
        incidents=list(reversed(scope.incidents(info.name, since))),  # newest first
    )


def _info(info: JourneyInfo, secrets: frozenset[str]) -> JourneyInfo:
    if not secrets:
        return info
    return JourneyInfo(
        info.name,
        None if info.owner is None else redact(info.owner, secrets),
        None if info.runbook is None else redact(info.runbook, secrets),
    )


def _redacted_run(run: Run, secrets: frozenset[str]) -> Run:
    if not secrets:
        return run
    failed_step = None if run.failed_step is None else redact(run.failed_step, secrets)
    return replace(run, message=redact(run.message, secrets), failed_step=failed_step)


def _redacted_status(status: JourneyStatus, secrets: frozenset[str]) -> JourneyStatus:
    """The history's free texts (messages, step names) redacted once more."""
    if not secrets:
        return status
    return replace(
        status,
        latest=None if status.latest is None else _redacted_run(status.latest, secrets),
        step_charts=[(redact(step, secrets), chart) for step, chart in status.step_charts],
        incidents=[
            replace(incident, last_message=redact(incident.last_message, secrets))
            for incident in status.incidents
        ],
    )


def _links(root: Path, folder: str | None) -> dict[str, str]:
    """URLs of the evidence files that are still there (``artifacts.keep_runs`` prunes)."""
    if not folder:
        return {}
    links = {}
    for name in (SCREENSHOT, TRACE, HTML):
        relative = f"{folder}/{name}"
        if evidence_path(root, quote(relative)) is not None:
            links[name] = PREFIX + quote(relative)
    return links
