"""``--json PATH``: the run's results as a document for tools."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from checkout_monitor import __version__
from checkout_monitor.results import JourneyResult, StepResult


def step_to_dict(step: StepResult) -> dict[str, Any]:
    kind = step.failure_kind
    return {
        "name": step.name,
        "ok": step.ok,
        "status": step.status.value,
        "duration_seconds": round(step.duration_seconds, 4),
        "failure_kind": kind.value if kind else None,
        "failure_class": kind.failure_class.value if kind else None,
        "message": step.message,
    }


def journey_to_dict(result: JourneyResult) -> dict[str, Any]:
    failed = result.failed_step
    return {
        "name": result.name,
        "journey": result.journey,
        "storefront": result.storefront,
        "location": result.location,
        "ok": result.ok,
        "started_at": result.started_at.isoformat(),
        "duration_seconds": round(result.duration_seconds, 4),
        "failed_step": failed.name if failed else None,
        "failure_kind": result.failure_kind.value if result.failure_kind else None,
        "failure_class": result.failure_class.value if result.failure_class else None,
        "owner": result.owner,
        "runbook": result.runbook,
        "steps": [step_to_dict(step) for step in result.steps],
    }


def run_to_dict(
    results: Sequence[JourneyResult], started_at: datetime, wall_seconds: float
) -> dict[str, Any]:
    return {
        "ok": all(r.ok for r in results),
        "version": __version__,
        "started_at": started_at.isoformat(),
        "duration_seconds": round(wall_seconds, 4),
        "journeys": [journey_to_dict(r) for r in results],
    }
