"""Soft steps (``run.step(name, soft=True)``): a failure is recorded and the journey goes on,
so product-images lists every broken page in one run; a crash, a foreign host, a script bug
or a timeout still stops the journey. Against the real demo shop in the real Chromium."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from junitparser import Failure, JUnitXml
from prometheus_client import CollectorRegistry

from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.reports.console import ConsoleReporter, Verbosity
from checkout_monitor.reports.html_report import render_html
from checkout_monitor.reports.junit_report import render_junit
from checkout_monitor.reports.run_info import RunInfo
from checkout_monitor.results import JourneyResult, StepResult, StepStatus
from support.cli_support import ARTIFACTS, run_cli, write_shop_config

STARTED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PAGE_1 = StepResult(
    "images on product page 1", StepStatus.FAILED, 0.8, FailureKind.IMAGE_BROKEN, "mug: 404"
)
PAGE_2 = StepResult(
    "images on product page 2", StepStatus.FAILED, 0.8, FailureKind.IMAGE_BROKEN, "bowl: bomb"
)
PAGE_3 = StepResult("images on product page 3", StepStatus.PASSED, 0.7, None, "3 intact")
PAGE_4 = StepResult(
    "images on product page 4", StepStatus.FAILED, 0.9, FailureKind.HTTP_ERROR, "HTTP 500"
)
RESULT = JourneyResult(
    name="product-images",
    journey="product-images",
    storefront="shop",
    location="lab",
    started_at=STARTED,
    duration_seconds=3.2,
    steps=(PAGE_1, PAGE_2, PAGE_3, PAGE_4),
)


# --- reports and metrics of a journey with several failed steps --------------------------------


def test_console_lists_every_failed_step_even_when_quiet() -> None:
    out = io.StringIO()
    reporter = ConsoleReporter(out, verbosity=Verbosity.QUIET)
    reporter.journey_finished(RESULT)
    reporter.run_finished([RESULT], 3.2)
    lines = out.getvalue().splitlines()
    assert lines[1:7] == [
        "product-images",
        "  => FAILED at step 'images on product page 1' (image_broken) after 3.2s, and 2 more "
        "steps failed",
        "     What happened: mug: 404",
        "     Also failed: 'images on product page 2' (image_broken): bowl: bomb",
        "     Also failed: 'images on product page 4' (http_error): HTTP 500",
        f"     What to do: {FailureKind.IMAGE_BROKEN.advice}",
    ]
    assert f"     What to do (http_error): {FailureKind.HTTP_ERROR.advice}" in lines
    assert lines[-1] == (
        "FAILED: 0 of 1 journeys passed; failed: product-images at 'images on product page 1' "
        "(image_broken) and 2 more steps. Total wall time 3.2s."
    )


def test_junit_and_html_show_every_failed_step() -> None:
    info = RunInfo(STARTED, 3.2, None, "lab", "test run")
    (suite,) = JUnitXml.fromstring(render_junit([RESULT], info))
    assert (suite.tests, suite.failures) == (4, 3)
    failures = {}
    for case in suite:
        for outcome in case.result:
            assert isinstance(outcome, Failure)
            failures[case.name] = outcome.type
    assert failures == {
        "images on product page 1": "image_broken",
        "images on product page 2": "image_broken",
        "images on product page 4": "http_error",
    }
    page = render_html([RESULT], info)
    assert (
        "FAILED at step \u201cimages on product page 1\u201d (image_broken), and 2 more steps "
        "failed"
    ) in page
    assert "Also failed: \u201cimages on product page 4\u201d (http_error): HTTP 500" in page


def test_metrics_count_each_failed_step_and_the_run_once() -> None:
    registry = CollectorRegistry()
    Metrics(registry, "lab").observe(RESULT)
    value = registry.get_sample_value
    labels = {"journey": "product-images", "location": "lab"}
    site = {"class": "site"}
    for step, kind in ((PAGE_1, "image_broken"), (PAGE_2, "image_broken"), (PAGE_4, "http_error")):
        assert (
            value(
                "checkout_step_failures_total", {**labels, **site, "step": step.name, "kind": kind}
            )
            == 1
        )
    assert value("checkout_step_duration_seconds_count", {**labels, "step": PAGE_3.name}) == 1
    # one failed run, by its first failure's kind
    assert value("checkout_journey_failures_total", {**labels, **site, "kind": "image_broken"}) == 1
    assert (
        value("checkout_journey_failures_total", {**labels, **site, "kind": "http_error"}) is None
    )
    assert value("checkout_journey_runs_total", {**labels, "result": "failure"}) == 1
    assert value("checkout_journey_consecutive_failures", labels) == 1


# --- the real thing --------------------------------------------------------------------------


@pytest.mark.browser
def test_product_images_lists_every_broken_page_in_one_run(tmp_path: Path) -> None:
    """Two faults on two product pages: both are reported, and the pages after them were
    still checked; evidence is taken once, for the one failed attempt."""
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    result = run_cli(
        "run-smoke", "--demo", "--journey", "product-images", "--retries", "0",
        "--fault", "broken-image", "--fault", "decompression-bomb",
        "--json", str(report), "--junit", str(junit),
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    (journey,) = json.loads(report.read_text())["journeys"]
    steps = [(s["name"], s["status"], s["failure_kind"]) for s in journey["steps"]]
    assert steps == [
        ("open product listing", "passed", None),
        ("images on product page 1", "failed", "image_broken"),
        ("images on product page 2", "failed", "image_broken"),
        *((f"images on product page {n}", "passed", None) for n in range(3, 7)),
    ]
    assert (journey["status"], journey["failed_step"], journey["failure_kind"]) == (
        "failed",
        "images on product page 1",
        "image_broken",
    )
    messages = {s["name"]: s["message"] for s in journey["steps"]}
    assert "/products/speckled-mug" in messages["images on product page 1"]
    assert "HTTP 404" in messages["images on product page 1"]
    assert "/products/stoneware-bowl" in messages["images on product page 2"]
    assert "a possible decompression bomb" in messages["images on product page 2"]
    assert "PASS  images on product page 6" in output

    assert ("  => FAILED at step 'images on product page 1' (image_broken) after ") in result.stdout
    assert ", and 1 more step failed\n" in result.stdout
    assert (
        "     Also failed: 'images on product page 2' (image_broken): 1 of 3 images broken on "
        "/products/stoneware-bowl: "
    ) in result.stdout
    assert (
        "FAILED: 0 of 1 journeys passed; failed: product-images at 'images on product page 1' "
        "(image_broken) and 1 more step. Total wall time "
    ) in result.stdout

    # one attempt, one set of evidence, naming both broken images
    assert [a["attempt"] for a in journey["attempts"]] == [1]
    evidence = journey["evidence"]
    assert evidence["folder"].endswith("product-images/attempt-1")
    broken = evidence["broken_images"]
    assert [url.rsplit("/images/", 1)[1] for url in broken] == [
        "speckled-mug/2-480.webp",
        "stoneware-bowl/2-480.webp",
    ]
    run_folder = Path(ARTIFACTS) / evidence["folder"]
    assert sorted(p.name for p in run_folder.parent.iterdir()) == ["attempt-1"]
    # on a loaded machine the screenshot can run out of time: then the evidence says why
    if evidence["screenshot"] is not None:
        assert (Path(ARTIFACTS) / evidence["screenshot"]).is_file()
    else:
        assert evidence["problems"], evidence

    (suite,) = JUnitXml.fromfile(str(junit))
    assert (suite.tests, suite.failures) == (7, 2)


PROBES = '''
"""Journeys that show what a soft step does with each kind of failure."""

import asyncio

from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.run.journey import JourneyRun, journey
from checkout_monitor.step_failures import CheckFailed


async def _then(run: JourneyRun) -> None:
    async with run.step("never reached") as step:
        step.note("ran anyway")


@journey("soft-goes-on")
async def soft_goes_on(run: JourneyRun) -> None:
    async with run.step("first broken page", soft=True):
        raise CheckFailed(FailureKind.IMAGE_BROKEN, "page 1 is broken")
    async with run.step("second broken page", soft=True):
        raise CheckFailed(FailureKind.HTTP_ERROR, "page 2 answered 500")
    async with run.step("a page that works", soft=True) as step:
        step.note(await run.shop.open_product())
    async with run.step("after the soft steps") as step:
        step.note("ran")


@journey("soft-stops-on-script-error")
async def script_error(run: JourneyRun) -> None:
    async with run.step("script bug", soft=True):
        {}["no such key"]
    await _then(run)


@journey("soft-stops-on-timeout")
async def timeout(run: JourneyRun) -> None:
    async with run.step("hung page", soft=True):
        await asyncio.sleep(30)
    await _then(run)


@journey("soft-stops-on-foreign-host")
async def foreign_host(run: JourneyRun) -> None:
    async with run.step("sent abroad", soft=True):
        await run.page.goto("http://foreign.example/")
    await _then(run)
'''

EXPECTED: dict[str, list[tuple[str, str, str | None]]] = {
    "soft-goes-on": [
        ("first broken page", "failed", "image_broken"),
        ("second broken page", "failed", "http_error"),
        ("a page that works", "passed", None),
        ("after the soft steps", "passed", None),
    ],
    "soft-stops-on-script-error": [("script bug", "failed", "journey_error")],
    "soft-stops-on-timeout": [("hung page", "failed", "timeout")],
    "soft-stops-on-foreign-host": [("sent abroad", "failed", "host_not_allowed")],
}


@pytest.mark.browser
def test_a_soft_step_goes_on_but_a_bug_a_timeout_or_a_foreign_host_stop_the_journey(
    start_shop: Callable[..., DemoShop], tmp_path: Path
) -> None:
    monitors = tmp_path / "monitors"
    monitors.mkdir()
    (monitors / "probes.py").write_text(PROBES, encoding="utf-8")
    config = write_shop_config(tmp_path / "c.yaml", start_shop())
    document: dict[str, Any] = yaml.safe_load(config.read_text())
    document["monitors_dir"] = str(monitors)
    document["defaults"]["step_timeout"] = "2s"
    document["journeys"] = [{"journey": name, "storefront": "shop"} for name in EXPECTED]
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    report = tmp_path / "report.json"
    result = run_cli("run-smoke", "--config", str(config), "--json", str(report))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    journeys = {j["name"]: j for j in json.loads(report.read_text())["journeys"]}
    steps = {
        name: [(s["name"], s["status"], s["failure_kind"]) for s in journey["steps"]]
        for name, journey in journeys.items()
    }
    assert steps == EXPECTED, output
    goes_on = journeys["soft-goes-on"]
    assert (goes_on["status"], goes_on["failed_step"], goes_on["failure_kind"]) == (
        "failed",
        "first broken page",
        "image_broken",
    )
    assert goes_on["steps"][2]["message"] == "Speckled Stoneware Mug"
    assert "ran anyway" not in output
    assert "     Also failed: 'second broken page' (http_error): page 2 answered 500" in output
