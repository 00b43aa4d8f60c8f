"""A journey whose every step was skipped checked nothing: SKIPPED in every output, never a
pass, never a failure. Results are built here for the words of each report, the metrics and
the alert rules; one run of the real CLI against a demo shop that takes no card shows them
end to end."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from junitparser import JUnitXml, Skipped, SystemOut
from prometheus_client import CollectorRegistry

from checkout_monitor.alerting.service import Alerting
from checkout_monitor.config.loader import builtin_profiles, parse_config
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.evidence.last_passed import LastPassed
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.reports.console import ConsoleReporter, Verbosity
from checkout_monitor.reports.html_report import render_html
from checkout_monitor.reports.json_report import run_to_dict
from checkout_monitor.reports.junit_report import render_junit
from checkout_monitor.reports.run_info import RunInfo
from checkout_monitor.reports.triage import Verdict, checklist, render_text
from checkout_monitor.results import JourneyResult, JourneyStatus, StepResult, StepStatus
from support.alert_receivers import AlertReceiver
from support.cli_support import run_cli, write_shop_config

STARTED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NO_HEALTH = StepResult(
    "payment provider health", StepStatus.SKIPPED, 0.0, None, "the profile names no health_url"
)
NO_CARD = StepResult(
    "card payments", StepStatus.SKIPPED, 0.0, None, "this checkout takes no card (no field)"
)
OPENED = StepResult("open product page", StepStatus.PASSED, 0.4, None, "Mug")
NO_ORDER_API = StepResult("cancel test order", StepStatus.SKIPPED, 0.0, None, "no order API")
DECLINED = StepResult(
    "pay", StepStatus.FAILED, 0.3, FailureKind.PAYMENT_DECLINED, "card declined", "payment"
)
INFO = RunInfo(STARTED, 2.5, None, "eu-west", "test run")
VERDICT = (
    "  => SKIPPED: nothing it could check here (all 2 steps skipped); not a pass, and not a failure"
)
WHAT_TO_DO = (
    "     What to do: nothing, if this storefront really lacks what the journey checks; "
    "otherwise add the missing settings named above to its storefront profile."
)


def _journey(name: str, *steps: StepResult, at: float = 0.0) -> JourneyResult:
    return JourneyResult(
        name=name,
        journey=name,
        storefront="shop",
        location="eu-west",
        started_at=datetime.fromtimestamp(STARTED.timestamp() + at, UTC),
        duration_seconds=2.5,
        steps=steps,
    )


SKIPPED = _journey("payment-sandbox", NO_HEALTH, NO_CARD)
PASSED = _journey("product-to-checkout", OPENED, NO_ORDER_API)  # some skipped: still a pass
FAILED = _journey("discount-codes", OPENED, DECLINED)


def _console(results: list[JourneyResult], verbosity: Verbosity = Verbosity.NORMAL) -> str:
    out = io.StringIO()
    reporter = ConsoleReporter(out, verbosity=verbosity)
    for result in results:
        reporter.journey_started(result.name, result.storefront)
        for step in result.steps:
            reporter.step_finished(step)
        reporter.journey_finished(result)
    reporter.run_finished(results, 2.5)
    return out.getvalue()


def test_status_of_a_journey() -> None:
    assert (SKIPPED.status, SKIPPED.ok, SKIPPED.skipped, SKIPPED.passed) == (
        JourneyStatus.SKIPPED,
        True,  # nothing failed: the exit code and retries treat it as no failure
        True,
        False,
    )
    assert PASSED.status is JourneyStatus.PASSED
    assert FAILED.status is JourneyStatus.FAILED
    assert not replace(SKIPPED, earlier_attempts=(FAILED,)).flaky  # flaky means it passed


def test_a_skipped_run_is_never_remembered_as_the_last_pass(tmp_path: Path) -> None:
    """A "last passed here" under a failure must mean a run that checked something."""
    store = LastPassed(tmp_path)
    store.record([PASSED, SKIPPED])
    assert set(store.load()) == {"product-to-checkout"}


# --- console -----------------------------------------------------------------------------------


def test_console_says_skipped_and_never_all_passed() -> None:
    lines = _console([PASSED, SKIPPED]).splitlines()
    skip_line = f"  SKIP  {'card payments':<40} {'':9}  this checkout takes no card (no field)"
    assert skip_line in lines
    assert VERDICT in lines
    assert WHAT_TO_DO in lines
    assert lines[-1] == (
        "PASSED: 1 of 2 journeys passed, 1 skipped (nothing it could check here): "
        "payment-sandbox. Total wall time 2.5s."
    )
    assert "ALL PASSED" not in "\n".join(lines)


def test_console_summary_with_a_failure_or_nothing_checked() -> None:
    assert _console([PASSED, SKIPPED, FAILED]).splitlines()[-1] == (
        "FAILED: 1 of 3 journeys passed, 1 skipped (nothing it could check here): "
        "payment-sandbox; failed: discount-codes at 'pay' (payment_declined). "
        "Total wall time 2.5s."
    )
    other = replace(SKIPPED, name="payment-eu")
    assert _console([SKIPPED, other]).splitlines()[-1] == (
        "NOTHING CHECKED: 0 of 2 journeys passed, 2 skipped (nothing they could check here): "
        "payment-sandbox, payment-eu. Total wall time 2.5s."
    )
    assert _console([PASSED]).splitlines()[-1] == (
        "ALL PASSED: 1 of 1 journeys passed. Total wall time 2.5s."
    )


def test_quiet_console_still_shows_the_skipped_journey_and_why() -> None:
    assert _console([PASSED, SKIPPED], Verbosity.QUIET).splitlines() == [
        "",
        "payment-sandbox",
        VERDICT,
        "     Skipped 'payment provider health': the profile names no health_url",
        "     Skipped 'card payments': this checkout takes no card (no field)",
        WHAT_TO_DO,
        "",
        "PASSED: 1 of 2 journeys passed, 1 skipped (nothing it could check here): "
        "payment-sandbox. Total wall time 2.5s.",
    ]


# --- JSON, JUnit, HTML, triage -----------------------------------------------------------------


def test_json_status_fields() -> None:
    document = run_to_dict([PASSED, SKIPPED], INFO)
    assert (document["ok"], document["status"]) == (True, "passed")
    passed, skipped = document["journeys"]
    assert (passed["ok"], passed["status"]) == (True, "passed")
    assert (skipped["ok"], skipped["status"], skipped["flaky"]) == (True, "skipped", False)
    assert skipped["attempts"][0]["status"] == "skipped"
    assert [s["status"] for s in skipped["steps"]] == ["skipped", "skipped"]
    assert run_to_dict([SKIPPED], INFO)["status"] == "skipped"
    assert run_to_dict([SKIPPED, FAILED], INFO)["status"] == "failed"


def test_junit_skipped_suite() -> None:
    parsed = JUnitXml.fromstring(render_junit([PASSED, SKIPPED], INFO))
    suites = {suite.name: suite for suite in parsed}
    suite = suites["payment-sandbox"]
    assert (suite.tests, suite.failures, suite.skipped, suite.errors) == (2, 0, 2, 0)
    messages = []
    for case in suite:
        [skipped] = case.result
        assert isinstance(skipped, Skipped)
        messages.append(skipped.message)
    assert messages == ["the profile names no health_url", "this checkout takes no card (no field)"]
    assert {p.name: p.value for p in suite.properties()}["status"] == "skipped"
    assert suite.child(SystemOut).text == (
        "SKIPPED: nothing it could check here (all 2 steps skipped)"
    )
    assert {p.name: p.value for p in suites["product-to-checkout"].properties()}["status"] == (
        "passed"
    )


def test_html_says_skipped() -> None:
    page = render_html([PASSED, SKIPPED], INFO)
    assert "<title>checkout-monitor: passed</title>" in page
    assert "<h1>1 of 2 journeys passed, 1 skipped (nothing it could check here)</h1>" in page
    assert (
        '<p class="verdict">SKIPPED: nothing it could check here (all 2 steps skipped); '
        "not a pass</p>"
    ) in page
    assert '<section class="journey skipped" id="journey-2">' in page
    assert "All 2 journeys passed" not in page
    only_skipped = render_html([SKIPPED], INFO)
    assert "<title>checkout-monitor: nothing checked</title>" in only_skipped
    assert '<section class="summary skipped">' in only_skipped


def test_triage_does_not_tick_a_skipped_journey() -> None:
    lines = {line.item.title: line for line in checklist([SKIPPED])}
    health = lines["Payment provider health"]
    assert health.verdict is Verdict.NOT_CHECKED
    assert health.detail == (
        "skipped, nothing it could check here ('payment provider health': the profile names "
        "no health_url; 'card payments': this checkout takes no card (no field))"
    )
    assert "[NOT CHECKED] Payment provider health: skipped" in render_text(list(lines.values()))


# --- metrics -----------------------------------------------------------------------------------


def test_metrics_count_a_skipped_run_as_skipped_and_touch_no_success() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry, "eu-west")
    value = registry.get_sample_value
    labels = {"journey": "payment-sandbox", "location": "eu-west"}

    metrics.observe(SKIPPED)  # never checked anything yet: no success series at all
    assert value("checkout_journey_runs_total", {**labels, "result": "skipped"}) == 1
    assert value("checkout_journey_attempts_total", {**labels, "result": "skipped"}) == 1
    assert value("checkout_journey_runs_total", {**labels, "result": "success"}) is None
    assert value("checkout_journey_success", labels) is None
    assert value("checkout_journey_last_success_timestamp_seconds", labels) is None
    assert value("checkout_journey_duration_seconds_count", labels) is None
    assert value("checkout_journey_last_run_timestamp_seconds", labels) == (
        STARTED.timestamp() + 2.5  # it did run: the dead man's switch must not fire
    )

    failed = replace(FAILED, name="payment-sandbox")
    metrics.observe(failed)
    metrics.observe(replace(SKIPPED, started_at=datetime(2026, 11, 23, 13, 0, tzinfo=UTC)))
    assert value("checkout_journey_success", labels) == 0  # still the failure's
    assert value("checkout_journey_consecutive_failures", labels) == 1  # neither reset nor +1
    assert value("checkout_journey_runs_total", {**labels, "result": "skipped"}) == 2
    assert value("checkout_journey_runs_total", {**labels, "result": "failure"}) == 1
    assert value("checkout_journey_duration_seconds_count", labels) == 1


# --- alert rules -------------------------------------------------------------------------------

ALERTING = """
location: eu-west
storefronts:
  shop: {{extends: demo, base_url: "http://127.0.0.1:9"}}
journeys:
  - {{journey: payment-sandbox, storefront: shop}}
alerting:
  state_dir: state
  min_firing: 0s
  min_resolved: 0s
  rules:
    - {{name: of-last, failures: 2, of_last: 3}}
    - {{name: in-a-row, consecutive_failures: 2}}
    - {{name: rate, failure_rate_above: 0.5, window: 1h, min_runs: 2}}
  channels:
    hook: {{webhook: {{url: "{url}/hook"}}}}
"""


@pytest.mark.parametrize(
    ("pattern", "firing"),
    [
        # x failed, s skipped, . passed; oldest first
        ("xssx", {"of-last", "in-a-row", "rate"}),  # skipped runs neither pass nor break a row
        ("xx" + "s" * 5, {"of-last", "in-a-row", "rate"}),  # nor resolve a firing alert
        ("s" * 6, set()),  # nor fail: nothing to judge
        ("x.sss", set()),
    ],
)
def test_alert_engine_leaves_skipped_runs_out(
    tmp_path: Path, pattern: str, firing: set[str]
) -> None:
    failing = replace(FAILED, name="payment-sandbox")
    passing = replace(PASSED, name="payment-sandbox")
    with AlertReceiver() as receiver:
        now = [STARTED.timestamp() + 3600]
        loaded = parse_config(ALERTING.format(url=receiver.url), "a.yaml", tmp_path, {})
        alerting = Alerting(
            loaded, Metrics(CollectorRegistry(), "eu-west"), None, clock=lambda: now[0]
        )
        for mark in pattern:
            now[0] += 60
            base = {"x": failing, "s": SKIPPED, ".": passing}[mark]
            alerting.observe(
                replace(base, started_at=datetime.fromtimestamp(now[0] - 2.5, UTC), attempt=1)
            )
        states = {a["rule"]: a for a in alerting.engine.snapshot()}
    assert {rule for rule, a in states.items() if a["status"] == "firing"} == firing


# --- end to end --------------------------------------------------------------------------------


@pytest.mark.browser
def test_run_smoke_on_a_shop_without_card_payment(
    start_shop: Callable[..., DemoShop], tmp_path: Path
) -> None:
    shop = start_shop()
    pages = builtin_profiles()["demo"]["checkout"]["pages"]
    for page in pages:  # no page asks for {card.number}: this shop takes no card
        if "fill" in page:
            page["fill"] = {k: v for k, v in page["fill"].items() if "{card." not in v}
    config = write_shop_config(
        tmp_path / "c.yaml",
        shop,
        storefront={"payment": {"health_url": None}, "checkout": {"pages": pages}},
        journey={"journey": "payment-sandbox"},
    )
    document = yaml.safe_load(config.read_text())
    document["journeys"].append({"journey": "discount-codes", "storefront": "shop"})
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    result = run_cli(
        "run-smoke", "--config", str(config), "--json", str(report), "--junit", str(junit)
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output  # a skipped journey is no failure...
    assert "Traceback" not in output
    lines = result.stdout.splitlines()
    assert VERDICT in lines  # ...but it is said
    assert any(
        line.startswith(
            "PASSED: 1 of 2 journeys passed, 1 skipped (nothing it could check here): "
            "payment-sandbox. Total wall time "
        )
        for line in lines
    ), output
    assert "ALL PASSED" not in output
    assert "=> passed" in output  # discount-codes
    assert output.count("=> passed") == 1

    journeys = {j["name"]: j for j in json.loads(report.read_text())["journeys"]}
    assert (journeys["payment-sandbox"]["status"], journeys["payment-sandbox"]["ok"]) == (
        "skipped",
        True,
    )
    assert journeys["discount-codes"]["status"] == "passed"
    suite = {s.name: s for s in JUnitXml.fromfile(str(junit))}["payment-sandbox"]
    assert (suite.tests, suite.skipped, suite.failures) == (2, 2, 0)
