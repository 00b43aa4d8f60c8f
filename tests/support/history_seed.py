"""Journey results at chosen times, for the run history tests to record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.history import HistoryStore
from checkout_monitor.results import Evidence, JourneyResult, StepResult, StepStatus

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
SECRET = "s3cr3t-token-value"


def result(
    minute: float,
    outcome: str = "passed",
    *,
    journey: str = "guest-checkout",
    kind: FailureKind = FailureKind.PAYMENT_DECLINED,
    pay: float = 2.0,
    message: str = "card declined",
    location: str = "eu-west",
) -> JourneyResult:
    """One run that started ``minute`` minutes after T0: passed, failed (at 'pay') or
    skipped (every step skipped)."""
    return result_at(
        T0 + timedelta(minutes=minute),
        outcome,
        journey=journey,
        kind=kind,
        pay=pay,
        message=message,
        folder=f"run-{minute}",
        location=location,
    )


def result_at(
    started_at: datetime,
    outcome: str = "passed",
    *,
    journey: str = "guest-checkout",
    kind: FailureKind = FailureKind.PAYMENT_DECLINED,
    pay: float = 2.0,
    message: str = "card declined",
    folder: str = "run",
    location: str = "eu-west",
) -> JourneyResult:
    """One run that started at ``started_at`` (timezone-aware), as ``result`` describes."""
    if outcome == "skipped":
        steps = (
            StepResult("open product", StepStatus.SKIPPED, 0.0, message="not on this shop"),
            StepResult("pay", StepStatus.SKIPPED, 0.0),
        )
    else:
        failed = outcome == "failed"
        steps = (
            StepResult("open product", StepStatus.PASSED, 1.0),
            StepResult(
                "pay",
                StepStatus.FAILED if failed else StepStatus.PASSED,
                pay,
                kind if failed else None,
                message if failed else "",
            ),
        )
    return JourneyResult(
        name=journey,
        journey="product-to-checkout",
        storefront="shop",
        location=location,
        started_at=started_at,
        duration_seconds=sum(step.duration_seconds for step in steps),
        steps=steps,
        evidence=Evidence(folder=f"{folder}/{journey}/attempt-1") if outcome == "failed" else None,
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where a test's run history goes."""
    return tmp_path / "history.sqlite3"


@pytest.fixture
def store(path: Path) -> Iterator[HistoryStore]:
    """A history store on ``path``, closed after the test."""
    store = HistoryStore(path)
    yield store
    store.close()
