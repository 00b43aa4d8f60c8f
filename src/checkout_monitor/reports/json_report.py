"""``--json PATH``: the run's results as a document for tools."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from checkout_monitor import __version__
from checkout_monitor.reports.atomic_files import write_text
from checkout_monitor.reports.run_info import RunInfo
from checkout_monitor.results import (
    BlockedRequest,
    Evidence,
    FailedRequest,
    JourneyResult,
    JourneyStatus,
    StepResult,
)


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
        "check": step.check,
    }


def failed_request_to_dict(request: FailedRequest) -> dict[str, Any]:
    return {
        "url": request.url,
        "method": request.method,
        "status": request.status,
        "error": request.error,
    }


def blocked_to_dict(blocked: BlockedRequest) -> dict[str, Any]:
    return {
        "host": blocked.host,
        "count": blocked.count,
        "example_url": blocked.example_url,
        "navigation": blocked.navigation,
    }


def evidence_to_dict(evidence: Evidence | None) -> dict[str, Any] | None:
    """Evidence paths as the runner gave them: relative ones start at ``artifacts_dir``."""
    if evidence is None:
        return None
    return {
        "folder": evidence.folder,
        "screenshot": evidence.screenshot,
        "html": evidence.html,
        "trace": evidence.trace,
        "console_errors": list(evidence.console_errors),
        "failed_requests": [failed_request_to_dict(r) for r in evidence.failed_requests],
        "broken_images": list(evidence.broken_images),
        "problems": list(evidence.problems),
    }


def _outcome(result: JourneyResult) -> dict[str, Any]:
    """How one attempt went: the same fields for a journey's last attempt and each one."""
    failed = result.failed_step
    return {
        "ok": result.ok,  # kept as it was: true for a skipped journey (nothing failed)
        "status": result.status.value,
        "started_at": result.started_at.isoformat(),
        "duration_seconds": round(result.duration_seconds, 4),
        "failed_step": failed.name if failed else None,
        "failure_kind": result.failure_kind.value if result.failure_kind else None,
        "failure_class": result.failure_class.value if result.failure_class else None,
        "blocked_requests": [blocked_to_dict(b) for b in result.blocked_requests],
    }


def attempt_to_dict(result: JourneyResult) -> dict[str, Any]:
    """One attempt of a journey: its own steps, failure and evidence."""
    return {
        "attempt": result.attempt,
        **_outcome(result),
        "steps": [step_to_dict(step) for step in result.steps],
        "evidence": evidence_to_dict(result.evidence),
    }


def journey_to_dict(result: JourneyResult) -> dict[str, Any]:
    """The journey's last attempt at the top level (as before), every attempt under
    ``attempts``, so old readers keep working and new ones see retries."""
    return {
        "name": result.name,
        "journey": result.journey,
        "storefront": result.storefront,
        "location": result.location,
        **_outcome(result),
        "flaky": result.flaky,
        "owner": result.owner,
        "runbook": result.runbook,
        "tags": list(result.tags),
        "counts": dict(result.counts),
        "steps": [step_to_dict(step) for step in result.steps],
        "evidence": evidence_to_dict(result.evidence),
        "attempt": result.attempt,
        "attempts": [attempt_to_dict(attempt) for attempt in result.all_attempts],
    }


def run_status(results: Sequence[JourneyResult]) -> JourneyStatus:
    """The run's outcome: failed if any journey failed, skipped if none failed and none
    passed (nothing was checked), else passed (even with some journeys skipped)."""
    if not all(r.ok for r in results):
        return JourneyStatus.FAILED
    if results and not any(r.passed for r in results):
        return JourneyStatus.SKIPPED
    return JourneyStatus.PASSED


def run_to_dict(results: Sequence[JourneyResult], info: RunInfo) -> dict[str, Any]:
    return {
        "ok": all(r.ok for r in results),
        "status": run_status(results).value,
        "version": __version__,
        "release": info.release,
        "location": info.location,
        "started_at": info.started_at.isoformat(),
        "duration_seconds": round(info.wall_seconds, 4),
        "artifacts_dir": str(info.artifacts_dir) if info.artifacts_dir else None,
        "journeys": [journey_to_dict(r) for r in results],
    }


def write_json_report(path: Path, results: Sequence[JourneyResult], info: RunInfo) -> None:
    """Write the document whole or not at all, like the other report writers."""
    text = json.dumps(run_to_dict(results, info), indent=2) + "\n"
    write_text(path, info.scrubbed(text))
