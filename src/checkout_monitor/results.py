"""``JourneyResult``: the one contract between the runner and everything after it.

Metrics, alerting and reports read these and never import Playwright.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from checkout_monitor.failure_kinds import FailureClass, FailureKind


class StepStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class JourneyStatus(StrEnum):
    """A journey's outcome: ``skipped`` when every step was skipped, so nothing was checked
    here (never a pass); a journey with some steps passed and some skipped has passed."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class StepResult:
    name: str
    status: StepStatus
    duration_seconds: float
    failure_kind: FailureKind | None = None
    message: str = ""
    check: str | None = None  # what the step checks, for metrics: "discount", "payment_health"

    @property
    def ok(self) -> bool:
        return self.status is not StepStatus.FAILED


@dataclass(frozen=True)
class FailedRequest:
    """A request the page made that failed: an HTTP error answer, or no answer at all."""

    url: str
    method: str
    status: int | None = None  # None: no answer (refused, reset, blocked, timed out)
    error: str = ""


@dataclass(frozen=True)
class BlockedRequest:
    """Requests to one host the storefront's config does not name, which the browser
    blocked; ``navigation``: a page itself was sent there (that fails the step)."""

    host: str
    count: int
    example_url: str  # the first one, so a person sees what wanted the host
    navigation: bool = False


@dataclass(frozen=True)
class Evidence:
    """What a failing attempt left behind for a person: paths are relative to ``folder``'s
    parent run folder's root (the artifacts folder), so reports can link them."""

    folder: str  # the attempt's folder, under the artifacts folder
    screenshot: str | None = None
    html: str | None = None
    trace: str | None = None  # a Playwright trace zip: `playwright show-trace PATH`
    console_errors: tuple[str, ...] = ()
    failed_requests: tuple[FailedRequest, ...] = ()
    broken_images: tuple[str, ...] = ()  # image URLs that failed the image checks
    problems: tuple[str, ...] = ()  # evidence that could not be kept, and why


@dataclass(frozen=True)
class JourneyResult:
    name: str
    journey: str
    storefront: str
    location: str
    started_at: datetime
    duration_seconds: float
    steps: tuple[StepResult, ...]
    owner: str | None = None
    runbook: str | None = None
    evidence: Evidence | None = None  # only for failed attempts
    counts: Mapping[str, int] = field(default_factory=dict)  # e.g. images_checked
    attempt: int = 1
    earlier_attempts: tuple[JourneyResult, ...] = ()  # failed attempts before this one
    tags: tuple[str, ...] = ()
    blocked_requests: tuple[BlockedRequest, ...] = ()  # this attempt's, by host

    @property
    def blocked_count(self) -> int:
        return sum(blocked.count for blocked in self.blocked_requests)

    @property
    def flaky(self) -> bool:
        """Passed, but only on a retry: degradation that must not be hidden."""
        return self.status is JourneyStatus.PASSED and bool(self.earlier_attempts)

    @property
    def all_attempts(self) -> tuple[JourneyResult, ...]:
        return (*self.earlier_attempts, self)

    @property
    def ok(self) -> bool:
        """No step failed. True for a skipped journey too (it is not a failure): ask
        ``status`` or ``skipped`` before calling it a pass."""
        return all(step.ok for step in self.steps)

    @property
    def status(self) -> JourneyStatus:
        if not self.ok:
            return JourneyStatus.FAILED
        if self.steps and all(step.status is StepStatus.SKIPPED for step in self.steps):
            return JourneyStatus.SKIPPED
        return JourneyStatus.PASSED

    @property
    def skipped(self) -> bool:
        """Every step was skipped: the journey checked nothing on this storefront."""
        return self.status is JourneyStatus.SKIPPED

    @property
    def passed(self) -> bool:
        """A real pass: nothing failed and at least one step was checked."""
        return self.status is JourneyStatus.PASSED

    @property
    def failed_step(self) -> StepResult | None:
        """The first failed step: soft steps can leave more (``failed_steps``)."""
        return next((step for step in self.steps if not step.ok), None)

    @property
    def failed_steps(self) -> tuple[StepResult, ...]:
        return tuple(step for step in self.steps if not step.ok)

    @property
    def failure_kind(self) -> FailureKind | None:
        failed = self.failed_step
        return failed.failure_kind if failed else None

    @property
    def failure_class(self) -> FailureClass | None:
        kind = self.failure_kind
        return kind.failure_class if kind else None
