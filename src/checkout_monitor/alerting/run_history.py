"""The recent runs of each journey, as much as the alert rules need to look back on."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from checkout_monitor.evidence.redaction import redact
from checkout_monitor.results import JourneyResult, StepStatus
from checkout_monitor.text.quoting import first_line

MIN_KEPT_RUNS = 100  # F-of-T and consecutive rules look back at most 100 runs
MAX_KEPT_RUNS = 20_000  # a cap on memory and file size: a 7-day window at a 1m interval fits
_MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class RunRecord:
    """One finished run, reduced to what rules and notifications read."""

    finished_at: float  # Unix time
    ok: bool
    duration: float
    failure_class: str | None = None
    failure_kind: str | None = None
    step: str | None = None  # the failing step
    message: str = ""  # what the failing step saw, secrets removed
    step_durations: dict[str, float] = field(default_factory=dict)
    # every step skipped: nothing checked, so neither a pass nor a failure to the rules
    # (``ok`` stays true, as nothing failed; a history file without the field has none)
    skipped: bool = False

    @classmethod
    def from_result(
        cls, result: JourneyResult, secrets: Iterable[str], steps: Collection[str] = ()
    ) -> RunRecord:
        """``steps``: the steps whose durations a latency rule reads; only they are kept."""
        secrets = list(secrets)
        failed = result.failed_step
        kind = failed.failure_kind if failed else None
        # redacted before it is cut short, so no part of a secret survives the cut
        message = redact(first_line(failed.message), secrets)[:_MESSAGE_LIMIT] if failed else ""
        return cls(
            finished_at=result.started_at.timestamp() + result.duration_seconds,
            ok=result.ok,
            duration=result.duration_seconds,
            failure_class=kind.failure_class.value if kind else None,
            failure_kind=kind.value if kind else None,
            step=redact(failed.name, secrets) if failed else None,
            message=message,
            step_durations={
                step.name: step.duration_seconds
                for step in result.steps
                if step.status is not StepStatus.SKIPPED and step.name in steps
            },
            skipped=result.skipped,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        return cls(**data)


class RunHistory:
    """Per journey, the last runs: at least ``MIN_KEPT_RUNS`` and all inside ``keep_seconds``."""

    def __init__(self, keep_seconds: float) -> None:
        self.keep_seconds = keep_seconds
        self._runs: dict[str, deque[RunRecord]] = {}

    def add(self, journey: str, record: RunRecord) -> None:
        runs = self._runs.setdefault(journey, deque(maxlen=MAX_KEPT_RUNS))
        runs.append(record)
        horizon = record.finished_at - self.keep_seconds
        while len(runs) > MIN_KEPT_RUNS and runs[0].finished_at < horizon:
            runs.popleft()

    def runs(self, journey: str) -> Sequence[RunRecord]:
        return self._runs.get(journey, ())

    def last_success(self, journey: str) -> float | None:
        runs = reversed(self.runs(journey))
        return next((r.finished_at for r in runs if r.ok and not r.skipped), None)

    def forget_except(self, journeys: Iterable[str]) -> None:
        keep = set(journeys)
        for name in list(self._runs):
            if name not in keep:
                del self._runs[name]

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {name: [r.to_dict() for r in runs] for name, runs in self._runs.items()}

    def load(self, data: dict[str, list[dict[str, Any]]]) -> None:
        for name, runs in data.items():
            self._runs[name] = deque((RunRecord.from_dict(r) for r in runs), maxlen=MAX_KEPT_RUNS)
