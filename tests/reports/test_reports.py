"""The JSON, JUnit and HTML reports, built from ``JourneyResult``s made here: no shop needed.

The JUnit file is read back with a real JUnit parser, and the HTML file is opened in the real
Chromium at a phone's size, because what matters is what a CI tool and a person see.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped, SystemOut, TestCase, TestSuite
from PIL import Image
from playwright.async_api import Route, async_playwright

from checkout_monitor.agent.status_data import JourneyInfo, JourneyStatus, StatusData
from checkout_monitor.agent.status_html import render
from checkout_monitor.browser.chromium import LAUNCH_FLAGS, find_chromium
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.reports.html_report import render_html, write_html
from checkout_monitor.reports.json_report import write_json_report
from checkout_monitor.reports.junit_report import render_junit, write_junit
from checkout_monitor.reports.run_info import RunInfo
from checkout_monitor.results import (
    Evidence,
    FailedRequest,
    JourneyResult,
    StepResult,
    StepStatus,
)

HOSTILE = "<script>alert(1)</script> & \"quoted\" 'single'"
STARTED = datetime(2026, 11, 23, 12, 45, 37, tzinfo=UTC)
LONG_URL = "https://shop.example/cdn/" + "very-long-path-segment-" * 12 + "mug.jpg"
RUNBOOK = "https://runbooks.example/checkout#payment"
PHONE = {"width": 390, "height": 844}
SCREENSHOT_SIZE = (48, 32)


@dataclass(frozen=True)
class Run:
    """A run with one failed, one flaky and one clean journey, and its evidence on disk."""

    results: tuple[JourneyResult, ...]
    info: RunInfo
    artifacts: Path


def _step(
    name: str,
    seconds: float,
    kind: FailureKind | None = None,
    message: str = "",
    status: StepStatus | None = None,
) -> StepResult:
    if status is None:
        status = StepStatus.FAILED if kind else StepStatus.PASSED
    return StepResult(name, status, seconds, kind, message)


def _journey(name: str, steps: tuple[StepResult, ...], **kwargs: object) -> JourneyResult:
    return JourneyResult(
        name=name,
        journey=name,
        storefront="demo",
        location="eu-west",
        started_at=STARTED,
        duration_seconds=sum(step.duration_seconds for step in steps),
        steps=steps,
        **kwargs,  # type: ignore[arg-type]
    )


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", SCREENSHOT_SIZE, (200, 30, 30)).save(path, format="PNG")


@pytest.fixture
def run(tmp_path: Path) -> Run:
    artifacts = tmp_path / "artifacts"
    # The failed journey: screenshot and trace kept (relative paths), the page HTML lost.
    _png(artifacts / "checkout-1" / "screenshot.png")
    (artifacts / "checkout-1" / "trace.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    failed = _journey(
        "checkout",
        (
            _step("open product page", 0.4, message="Speckled Mug"),
            _step("add to cart", 0.3),
            _step("pay", 0.25, FailureKind.PAYMENT_DECLINED, HOSTILE),
        ),
        owner="Shop team <shop@example.com>",
        runbook=RUNBOOK,
        tags=("payments", "critical"),
        evidence=Evidence(
            folder="checkout-1",
            screenshot="checkout-1/screenshot.png",
            html="checkout-1/page.html",
            trace="checkout-1/trace.zip",
            console_errors=("TypeError: cart is undefined",),
            failed_requests=(
                FailedRequest(LONG_URL, "GET", 404),
                FailedRequest("https://pay.example/api", "POST", None, "net::ERR_CONNECTION_RESET"),
            ),
            broken_images=(LONG_URL,),
            problems=("the page HTML could not be saved: page closed",),
        ),
    )
    # The flaky journey: attempt 1 failed (evidence with an absolute screenshot path that
    # is gone), attempt 2 passed.
    first = _journey(
        "images",
        (_step("open product page", 0.2), _step("check images", 0.1, FailureKind.IMAGE_BROKEN)),
        evidence=Evidence(folder="images-1", screenshot=str(tmp_path / "gone" / "shot.png")),
    )
    flaky = replace(
        _journey(
            "images",
            (_step("open product page", 0.2), _step("check images", 0.1)),
            owner="Catalogue team",
        ),
        attempt=2,
        earlier_attempts=(first,),
    )
    clean = _journey(
        "browse",
        (
            _step("open home page", 0.1),
            _step("cancel test order", 0.0, status=StepStatus.SKIPPED, message="no order API"),
        ),
    )
    info = RunInfo(STARTED, 3.5, "v2.14.0", "eu-west", "checkout-monitor test run", artifacts)
    return Run((failed, flaky, clean), info, artifacts)


# --- JSON --------------------------------------------------------------------------------------


def test_json_names_release_attempts_flakiness_tags_and_evidence(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "out" / "results.json"
    write_json_report(path, run.results, run.info)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["release"] == "v2.14.0"
    assert document["location"] == "eu-west"
    assert document["artifacts_dir"] == str(run.artifacts)
    failed, flaky, clean = document["journeys"]

    assert (failed["ok"], failed["flaky"], failed["tags"]) == (
        False,
        False,
        ["payments", "critical"],
    )
    assert failed["evidence"]["screenshot"] == "checkout-1/screenshot.png"
    assert failed["evidence"]["trace"] == "checkout-1/trace.zip"
    assert failed["evidence"]["failed_requests"][1] == {
        "url": "https://pay.example/api",
        "method": "POST",
        "status": None,
        "error": "net::ERR_CONNECTION_RESET",
    }
    assert failed["evidence"]["console_errors"] == ["TypeError: cart is undefined"]
    assert failed["evidence"]["broken_images"] == [LONG_URL]
    assert [a["attempt"] for a in failed["attempts"]] == [1]

    assert (flaky["ok"], flaky["flaky"], flaky["attempt"]) == (True, True, 2)
    first, second = flaky["attempts"]
    assert (first["ok"], first["failed_step"], first["failure_kind"]) == (
        False,
        "check images",
        "image_broken",
    )
    assert first["steps"][1]["status"] == "failed"
    assert first["evidence"]["folder"] == "images-1"
    assert (second["ok"], second["evidence"]) == (True, None)

    assert (clean["flaky"], clean["evidence"], clean["tags"]) == (False, None, [])
    assert clean["steps"][1]["status"] == "skipped"


# --- JUnit -------------------------------------------------------------------------------------


def _suites(xml: str) -> dict[str, TestSuite]:
    return {suite.name: suite for suite in JUnitXml.fromstring(xml)}


def _properties(suite: TestSuite) -> dict[str, str]:
    return {prop.name: prop.value for prop in suite.properties()}


def test_junit_has_a_suite_per_journey_and_a_case_per_step(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "out" / "junit.xml"
    write_junit(path, run.results, run.info, environ={})
    parsed = JUnitXml.fromfile(str(path))
    assert (parsed.tests, parsed.failures, parsed.skipped, parsed.errors) == (7, 1, 1, 0)
    suites = {suite.name: suite for suite in parsed}
    assert list(suites) == ["checkout", "images", "browse"]

    checkout = suites["checkout"]
    assert (checkout.tests, checkout.failures, checkout.skipped) == (3, 1, 0)
    assert checkout.time == pytest.approx(0.95)
    assert checkout.timestamp == "2026-11-23T12:45:37"
    cases: list[TestCase] = list(checkout)
    assert [(c.classname, c.name) for c in cases] == [
        ("checkout", "open product page"),
        ("checkout", "add to cart"),
        ("checkout", "pay"),
    ]
    assert cases[0].time == pytest.approx(0.4)
    assert cases[0].is_passed and cases[1].is_passed
    [failure] = cases[2].result
    assert isinstance(failure, Failure)
    assert failure.type == "payment_declined"
    assert failure.message == f"payment_declined: {HOSTILE}"
    assert FailureKind.PAYMENT_DECLINED.advice in (failure.text or "")
    assert _properties(checkout) == {
        "storefront": "demo",
        "location": "eu-west",
        "owner": "Shop team <shop@example.com>",
        "runbook": RUNBOOK,
        "release": "v2.14.0",
        "status": "failed",
        "flaky": "false",
        "attempts": "1",
        "tags": "payments,critical",
    }
    out = (cases[2].system_out or "").splitlines()
    folder = run.artifacts / "checkout-1"
    assert out[:3] == [
        f"[[ATTACHMENT|{folder / 'screenshot.png'}]]",
        f"[[ATTACHMENT|{folder / 'trace.zip'}]]",
        f"page HTML missing: {folder / 'page.html'}",
    ]
    assert f"failed request: GET {LONG_URL} -> 404" in out
    assert (
        "failed request: POST https://pay.example/api -> no answer (net::ERR_CONNECTION_RESET)"
        in out
    )
    assert cases[0].system_out is None

    browse = suites["browse"]
    skipped_case = list(browse)[1]
    [skipped] = skipped_case.result
    assert isinstance(skipped, Skipped)
    assert skipped.message == "no order API"


def test_junit_flaky_journey_passes_but_says_an_attempt_failed(run: Run) -> None:
    images = _suites(render_junit(run.results, run.info))["images"]
    assert (images.tests, images.failures) == (2, 0)
    assert all(case.is_passed for case in images)
    props = _properties(images)
    assert (props["flaky"], props["attempts"]) == ("true", "2")
    assert props["attempt_1"] == "failed at step 'check images' (image_broken): "
    out = images.child(SystemOut).text.splitlines()
    gone = run.artifacts.parent / "gone" / "shot.png"
    assert out == [
        "FLAKY: passed on attempt 2",
        "attempt 1: failed at step 'check images' (image_broken): ",
        f"screenshot missing: {gone}",
    ]


def test_junit_attaches_earlier_attempts_evidence_too(run: Run) -> None:
    first = run.results[1].earlier_attempts[0]
    assert first.evidence is not None
    shot = run.artifacts / "images-1" / "shot.png"
    _png(shot)
    earlier = replace(first, evidence=replace(first.evidence, screenshot="images-1/shot.png"))
    flaky = replace(run.results[1], earlier_attempts=(earlier,))
    suite = _suites(render_junit([flaky], run.info))["images"]
    assert f"[[ATTACHMENT|{shot}]]" in suite.child(SystemOut).text.splitlines()


def test_junit_attachments_are_relative_to_the_gitlab_project_folder(
    run: Run, tmp_path: Path
) -> None:
    """GitLab links an attachment only by its path inside the project folder."""
    path = tmp_path / "junit.xml"
    write_junit(path, run.results, run.info, environ={"CI_PROJECT_DIR": str(tmp_path)})
    suites = {suite.name: suite for suite in JUnitXml.fromfile(str(path))}
    out = (list(suites["checkout"])[2].system_out or "").splitlines()
    assert out[:2] == [
        "[[ATTACHMENT|artifacts/checkout-1/screenshot.png]]",
        "[[ATTACHMENT|artifacts/checkout-1/trace.zip]]",
    ]
    elsewhere = render_junit(run.results, run.info, attachments_base=tmp_path / "project")
    assert f"[[ATTACHMENT|{run.artifacts / 'checkout-1' / 'screenshot.png'}]]" in elsewhere


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ('say "hi" & <bye>', 'say "hi" & <bye>'),
        ("bell\x07 nul\x00 esc\x1b[31m", "bell nul esc[31m"),
        ("tab\tnewline\ncr\r", "tab\tnewline\ncr\r"),
        ("lone surrogate \ud800 and \ufffe", "lone surrogate  and "),
        ("]]> cdata end", "]]> cdata end"),
    ],
)
def test_junit_carries_hostile_shop_text_as_valid_xml(given: str, kept: str) -> None:
    step = _step(given, 0.1, FailureKind.ASSERTION, given)
    result = _journey(given, (step,), owner=given)
    info = RunInfo(STARTED, 0.1, given, "here", "header")
    xml = render_junit([result], info)
    xml.encode("utf-8")  # lone surrogates would make the file unwritable
    suite = _suites(xml)[kept]
    [case] = list(suite)
    assert case.name == kept
    [failure] = case.result
    assert failure.message == f"assertion: {kept}"
    # In element text (not attributes) XML parsers read a carriage return as a newline.
    assert (failure.text or "").startswith(kept.replace("\r", "\n"))
    assert _properties(suite)["release"] == kept


# --- HTML --------------------------------------------------------------------------------------


def test_html_escapes_shop_text_and_links_only_web_runbooks(run: Run) -> None:
    bad_runbook = replace(run.results[0], runbook="javascript:alert(1)", name='x" onclick="y')
    page = render_html([bad_runbook], run.info)
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'onclick="y"' not in page
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert links, "the screenshot and the summary's anchors are there"
    assert all(link.startswith(("data:image/png;base64,", "#journey-")) for link in links)


@pytest.mark.parametrize(
    ("runbook", "shown"),
    [
        (
            "HTTPS://ops:pw@wiki.example.com/pay#step",
            '<a href="HTTPS://wiki.example.com/pay#step">HTTPS://wiki.example.com/pay#step</a>',
        ),
        ("ftp://ops:pw@files.example.com/runbook.txt", "ftp://files.example.com/runbook.txt"),
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("wiki page <pay>", "wiki page &lt;pay&gt;"),
        ("mailto:shop@example.com", "mailto:shop@example.com"),
    ],
)
def test_the_report_and_the_status_page_show_a_runbook_alike(
    run: Run, runbook: str, shown: str
) -> None:
    """One rule (reports/runbook_links.py): any case of http(s) links, a user:password@
    never shows, in a link or as text."""
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    page = render_html([replace(run.results[0], runbook=runbook)], run.info)
    assert f"<dt>Runbook</dt><dd>{shown}</dd>" in page
    status = render(
        StatusData(
            now, "24h", now, 900, [JourneyStatus(JourneyInfo("x", None, runbook))], [], None, None
        )
    )
    assert f"<th>runbook</th><td>{shown}</td>" in status
    assert "pw@" not in page and "pw@" not in status


def test_html_says_when_a_screenshot_is_missing(run: Run) -> None:
    page = render_html(run.results, run.info)
    gone = run.artifacts.parent / "gone" / "shot.png"
    assert f"The screenshot is missing: nothing at <code>{gone}</code>" in page
    no_shot = replace(run.results[0], evidence=Evidence(folder="checkout-1"))
    assert "No screenshot was kept" in render_html([no_shot], run.info)


def test_html_summary_for_an_all_passed_run(run: Run) -> None:
    info = replace(run.info, release=None)
    page = render_html([run.results[2]], info)
    assert "All 1 journeys passed" in page
    assert "not given (run-smoke --release VERSION)" in page
    assert "FAILED" not in page


async def _open_on_phone(path: Path) -> dict[str, object]:
    """Open the report like a person on a phone; record every request the page makes."""
    requested: list[str] = []

    async def record(route: Route) -> None:
        requested.append(route.request.url)
        if route.request.url.startswith(("file:", "data:")):
            await route.continue_()
        else:
            await route.abort()

    dialogs: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=find_chromium(None), args=list(LAUNCH_FLAGS)
        )
        try:
            context = await browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
            await context.route("**/*", record)
            page = await context.new_page()
            page.on("dialog", lambda dialog: dialogs.append(dialog.message))
            await page.goto(path.as_uri())
            await page.wait_for_load_state("load")
            journeys = page.locator("section.journey")
            checkout = journeys.filter(has=page.get_by_role("heading", name="checkout", exact=True))
            images = journeys.filter(has=page.get_by_role("heading", name="images", exact=True))
            image = checkout.locator("figure img")
            seen = {
                "summary": await page.locator("section.summary").inner_text(),
                "checkout": await checkout.inner_text(),
                "images": await images.inner_text(),
                "runbook_href": await checkout.get_by_role("link", name=RUNBOOK).get_attribute(
                    "href"
                ),
                "image_size": await image.evaluate("img => [img.naturalWidth, img.naturalHeight]"),
                "failed_bar_color": await checkout.locator("li.step-failed .bar").evaluate(
                    "bar => getComputedStyle(bar).backgroundColor"
                ),
                "bar_lefts": await checkout.locator(".bar").evaluate_all(
                    "bars => bars.map(b => b.style.left)"
                ),
                "earlier_open": await images.locator("details").evaluate("d => d.open"),
                "scroll_width": await page.evaluate("document.documentElement.scrollWidth"),
                "scripts": await page.locator("script").count(),
            }
            await images.locator("details summary").click()
            seen["earlier_after_click"] = await images.locator("details").inner_text()
        finally:
            await browser.close()
    seen["requested"] = requested
    seen["dialogs"] = dialogs
    return seen


@pytest.mark.browser
def test_html_report_reads_well_on_a_phone_in_chromium(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "report" / "index.html"
    write_html(path, run.results, run.info)
    seen = asyncio.run(_open_on_phone(path))

    summary = str(seen["summary"])
    assert "1 of 3 journeys FAILED; 1 only on a retry (flaky)" in summary
    assert "v2.14.0" in summary and "eu-west" in summary
    assert "2026-11-23 12:45:37 UTC" in summary

    checkout = str(seen["checkout"])
    assert "FAILED at step \u201cpay\u201d (payment_declined)" in checkout
    assert "Shop team <shop@example.com>" in checkout
    assert FailureKind.PAYMENT_DECLINED.advice in checkout
    assert f"payment_declined: {HOSTILE}" in checkout  # shown as text, never run
    assert "250 ms" in checkout and "400 ms" in checkout
    assert "TypeError: cart is undefined" in checkout
    assert "ERR_CONNECTION_RESET" in checkout and "no answer" in checkout
    assert "the page HTML could not be saved: page closed" in checkout
    assert f"{run.artifacts / 'checkout-1' / 'page.html'} (not found)" in checkout
    assert f"{run.artifacts / 'checkout-1' / 'trace.zip'}\n" in checkout
    assert seen["runbook_href"] == RUNBOOK
    assert seen["image_size"] == list(SCREENSHOT_SIZE)
    assert seen["failed_bar_color"] == "rgb(211, 47, 47)"
    # Each bar starts where the steps before it ended: 0, 0.4 and 0.7 of 0.95 seconds.
    assert seen["bar_lefts"] == ["0%", "42.11%", "73.68%"]

    images = str(seen["images"])
    assert "FLAKY: passed on attempt 2" in images
    assert seen["earlier_open"] is False
    assert "Attempt 1: FAILED at step \u201ccheck images\u201d (image_broken)" in images
    assert "The screenshot is missing" in str(seen["earlier_after_click"])

    assert seen["scroll_width"] == PHONE["width"]  # long URLs wrap: no sideways scrolling
    assert seen["scripts"] == 0 and seen["dialogs"] == []
    assert seen["requested"] == [path.as_uri()]  # the screenshot is inline: nothing else loads
