"""The metrics read from their own registry, and checked by Debian's real promtool."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest

from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.results import JourneyResult, StepResult, StepStatus

STARTED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _result(name: str, *steps: StepResult, counts: dict[str, int] | None = None) -> JourneyResult:
    return JourneyResult(
        name=name, journey=name, storefront="shop", location="eu-west-1", started_at=STARTED,
        duration_seconds=2.5, steps=steps, counts=counts or {},
    )  # fmt: skip


PASSED = StepResult("open product page", StepStatus.PASSED, 0.4)
DECLINED = StepResult(
    "pay", StepStatus.FAILED, 1.2, FailureKind.PAYMENT_DECLINED, "Order CM-1 declined", "payment"
)
SKIPPED = StepResult("cancel test order", StepStatus.SKIPPED, 0.0)


def test_a_pass_then_a_failure() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry, "eu-west-1")
    metrics.observe(_result("guest-checkout", PASSED, SKIPPED))
    metrics.observe(_result("guest-checkout", PASSED, DECLINED))
    labels = {"journey": "guest-checkout", "location": "eu-west-1"}
    value = registry.get_sample_value
    assert value("checkout_journey_runs_total", {**labels, "result": "success"}) == 1
    assert value("checkout_journey_runs_total", {**labels, "result": "failure"}) == 1
    assert value("checkout_journey_success", labels) == 0
    assert value("checkout_journey_last_success_timestamp_seconds", labels) == (
        STARTED.timestamp() + 2.5
    )
    failure = {**labels, "kind": "payment_declined", "class": "site"}
    assert value("checkout_journey_failures_total", failure) == 1
    assert value("checkout_step_failures_total", {**failure, "step": "pay"}) == 1
    assert value("checkout_checks_total", {**labels, "check": "payment", "result": "fail"}) == 1
    assert value("checkout_step_duration_seconds_count", {**labels, "step": "pay"}) == 1
    # a skipped step is not timed
    assert (
        value("checkout_step_duration_seconds_count", {**labels, "step": "cancel test order"})
        is None
    )
    assert value("checkout_journey_duration_seconds_bucket", {**labels, "le": "4.0"}) == 2
    assert value("checkout_build_info", {"location": "eu-west-1", "version": "0.1.0"}) == 1


def test_image_counts() -> None:
    registry = CollectorRegistry()
    Metrics(registry, "lab").observe(
        _result("images", PASSED, counts={"images_checked": 18, "images_broken": 1})
    )
    labels = {"journey": "images", "location": "lab"}
    assert registry.get_sample_value("checkout_images_checked_total", labels) == 18
    assert registry.get_sample_value("checkout_images_broken_total", labels) == 1


def test_journey_info_names_one_storefront_per_journey() -> None:
    """Dashboards pick journeys by storefront through it; a reload that moves a journey
    leaves no second storefront behind."""
    registry = CollectorRegistry()
    metrics = Metrics(registry, "lab")
    metrics.journey_planned("guest-checkout", 60, "shop")
    metrics.journey_planned("images", 300, "shop")
    metrics.journey_planned("guest-checkout", 60, "shop-eu")
    info = [
        sample.labels
        for family in registry.collect()
        if family.name == "checkout_journey_info"
        for sample in family.samples
        if sample.value == 1
    ]
    assert sorted(info, key=lambda labels: labels["journey"]) == [
        {"journey": "guest-checkout", "storefront": "shop-eu", "location": "lab"},
        {"journey": "images", "storefront": "shop", "location": "lab"},
    ]
    assert (
        registry.get_sample_value(
            "checkout_journey_interval_seconds", {"journey": "images", "location": "lab"}
        )
        == 300
    )


def test_labels_are_bounded() -> None:
    registry = CollectorRegistry()
    Metrics(registry, "lab").observe(_result("guest-checkout", PASSED, DECLINED))
    text = generate_latest(registry).decode()
    assert "CM-1" not in text  # no order numbers, messages or URLs as label values
    assert 'declined"' not in text.replace('kind="payment_declined"', "")


def test_promtool_accepts_the_output() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry, "lab")
    metrics.observe(_result("guest-checkout", PASSED, DECLINED))
    metrics.config_loaded(True, 1.0)
    metrics.journey_planned("guest-checkout", 60, "shop")
    metrics.browser_restarts.labels("lab").inc()
    checked = subprocess.run(
        ["promtool", "check", "metrics"], input=generate_latest(registry), capture_output=True,
        check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
