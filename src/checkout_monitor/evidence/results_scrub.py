"""Results with every secret and card number taken out of the shop's text, before any
report renders them: a secret escaped by HTML, XML or JSON could no longer be found after.

``scrub`` is an :class:`~checkout_monitor.evidence.evidence_redaction.EvidenceRedactor`'s ``text``,
so results, evidence and traces are scrubbed by the one redaction module."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from checkout_monitor.results import (
    BlockedRequest,
    Evidence,
    FailedRequest,
    JourneyResult,
    StepResult,
)

Scrub = Callable[[str], str]


def scrub_results(results: Sequence[JourneyResult], scrub: Scrub) -> list[JourneyResult]:
    """Every text a report, a log line, a metric label or an alert takes from a result."""
    return [_journey(result, scrub) for result in results]


def _journey(result: JourneyResult, scrub: Scrub) -> JourneyResult:
    return replace(
        result,
        # from the config, where a ${ENV} value may have gone into them
        owner=None if result.owner is None else scrub(result.owner),
        runbook=None if result.runbook is None else scrub(result.runbook),
        steps=tuple(_step(step, scrub) for step in result.steps),
        evidence=_evidence(result.evidence, scrub),
        earlier_attempts=tuple(_journey(a, scrub) for a in result.earlier_attempts),
        blocked_requests=tuple(_blocked(b, scrub) for b in result.blocked_requests),
    )


def _step(step: StepResult, scrub: Scrub) -> StepResult:
    return replace(step, name=scrub(step.name), message=scrub(step.message))


def _evidence(evidence: Evidence | None, scrub: Scrub) -> Evidence | None:
    if evidence is None:
        return None
    return replace(
        evidence,
        console_errors=tuple(scrub(line) for line in evidence.console_errors),
        failed_requests=tuple(_request(r, scrub) for r in evidence.failed_requests),
        broken_images=tuple(scrub(url) for url in evidence.broken_images),
        problems=tuple(scrub(problem) for problem in evidence.problems),
    )


def _blocked(blocked: BlockedRequest, scrub: Scrub) -> BlockedRequest:
    return replace(blocked, host=scrub(blocked.host), example_url=scrub(blocked.example_url))


def _request(request: FailedRequest, scrub: Scrub) -> FailedRequest:
    return replace(request, url=scrub(request.url), error=scrub(request.error))
