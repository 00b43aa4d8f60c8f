"""The incident checklist answered from results, and the console never echoing a secret."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.reports.console import ConsoleReporter
from checkout_monitor.reports.triage import Verdict, checklist
from checkout_monitor.results import JourneyResult, StepResult, StepStatus


def journey(name: str, *steps: StepResult) -> JourneyResult:
    return JourneyResult(
        name, name, "shop", "lab", datetime(2026, 11, 23, tzinfo=UTC), 3.0, steps, owner="Team"
    )


def passed(name: str, check: str | None = None) -> StepResult:
    return StepResult(name, StepStatus.PASSED, 0.5, check=check)


def failed(name: str, kind: FailureKind, message: str) -> StepResult:
    return StepResult(name, StepStatus.FAILED, 0.5, kind, message)


def test_a_token_rejected_mid_checkout_fails_the_token_line_not_just_the_funnel() -> None:
    results = [
        journey(
            "product-to-checkout",
            passed("open product page"),
            failed("fill address", FailureKind.CHECKOUT_TOKEN_INVALID, "session expired"),
        ),
        journey("payment-sandbox", passed("payment provider health", "payment_health")),
    ]
    lines = {line.item.title: line for line in checklist(results)}
    assert lines["Cart funnel smoke test"].verdict is Verdict.FAIL
    assert lines["Checkout token"].verdict is Verdict.FAIL
    assert "'fill address' failed (checkout_token_invalid)" in lines["Checkout token"].detail
    assert lines["Payment provider health"].verdict is Verdict.PASS
    assert lines["Discount engine"].verdict is Verdict.NOT_CHECKED
    assert "no 'discount-codes' journey is configured" in lines["Discount engine"].detail


def test_the_console_scrubs_what_the_shop_said() -> None:
    out = io.StringIO()
    reporter = ConsoleReporter(out, scrub=lambda text: text.replace("TOPSECRET1", "••••"))
    reporter.journey_started("discount-codes", "shop")
    step = failed("apply TOPSECRET1", FailureKind.DISCOUNT_REJECTED, "TOPSECRET1 was refused")
    reporter.step_finished(step)
    reporter.journey_finished(journey("discount-codes", step))
    assert "TOPSECRET1" not in out.getvalue()
    assert "apply ••••" in out.getvalue()
    assert "Last passed here: not known" in out.getvalue()
