"""A journey's attempts: a failed one runs again (``retries``) before it counts as failed.

Every attempt stays in the result (``earlier_attempts``), evidence and all, so a pass on a
retry is reported as flaky, never as a plain pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace

from checkout_monitor.config.model import TraceCapture
from checkout_monitor.evidence.redaction import EvidenceRedactor
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.results import JourneyResult
from checkout_monitor.run.plan import PlannedJourney
from checkout_monitor.run.runner import JourneyRunner

log = logging.getLogger("checkout_monitor.attempts")  # the name logs and filters know
# A bug in the journey script fails the same way every time: a retry only costs time. A
# browser crash says nothing of the shop: the run counts as the monitor's failure (class
# monitor, never the shop owner's page) and the next scheduled run uses the fresh browser; a
# retry would hide the crash and mark the shop flaky for it.
_NOT_RETRIED = frozenset({FailureKind.JOURNEY_ERROR, FailureKind.BROWSER_CRASH})


async def run_with_retries(
    runner: JourneyRunner,
    planned: PlannedJourney,
    traces: TraceCapture = TraceCapture.RETRY,
    on_retry: Callable[[JourneyResult], None] | None = None,
    *,
    secrets: Iterable[str] = (),
) -> JourneyResult:
    """Run until an attempt passes or ``planned.retries`` retries are used up; ``on_retry``
    hears of each failed attempt that is about to be retried. ``secrets`` (the config's
    ``${ENV}`` values) are redacted from the log line of a retry: a step can be named after
    a discount code, and the shop's card numbers are scrubbed with them."""
    scrub = EvidenceRedactor.for_profile(planned.profile, secrets).text
    earlier: list[JourneyResult] = []
    attempt = 1
    while True:
        trace = traces is TraceCapture.ALWAYS or (traces is TraceCapture.RETRY and attempt > 1)
        result = await runner.run(planned, attempt=attempt, trace=trace)
        if result.ok or attempt > planned.retries or _not_retried(result):
            break
        log.info(
            "%s failed at %r on attempt %d; trying again",
            scrub(planned.name),
            scrub(result.failed_step.name) if result.failed_step else "?",
            attempt,
        )
        if on_retry is not None:
            on_retry(result)
        earlier.append(result)
        attempt += 1
    return replace(result, earlier_attempts=tuple(earlier)) if earlier else result


def _not_retried(result: JourneyResult) -> bool:
    """Any failed step, not only the first: after soft steps that failed on the shop's side,
    the browser can still crash, and that crash must not be retried away either."""
    return any(step.failure_kind in _NOT_RETRIED for step in result.failed_steps)
