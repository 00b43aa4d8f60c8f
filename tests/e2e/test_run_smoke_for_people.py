"""`run-smoke` as a person and a CI job use it: listing and selecting journeys, quiet and
coloured output, retries that stay visible, the incident checklist, the release label."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from junitparser import JUnitXml

from checkout_monitor.demo_shop import DemoShop
from support.cli_support import ARTIFACTS, BIN, REPO, run_cli, write_shop_config
from support.secret_search import files_under, found

pytestmark = pytest.mark.browser
SGR = re.compile(r"\x1b\[[0-9;]*m")  # an escape that sets colour or style
FAST_FAIL = ["--demo", "--retries", "0", "--step-timeout", "5s"]


def test_list_shows_journeys_owners_intervals_and_tags() -> None:
    result = run_cli("run-smoke", "--demo", "--list")
    assert result.returncode == 0, result.stderr
    assert "discount-codes  (discount-codes on demo)" in result.stdout
    assert "owner: Demo shop marketing (marketing@example.com)" in result.stdout
    assert "every 5m under serve; retries 1; tags: discounts" in result.stdout
    assert "PASS" not in result.stdout  # nothing ran


def test_tag_selects_journeys_and_an_unknown_tag_lists_the_known_ones() -> None:
    result = run_cli("run-smoke", *FAST_FAIL, "--tag", "payment", "--list")
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines() if not line.startswith(" ")] == [
        "payment-sandbox"
    ]
    unknown = run_cli("run-smoke", "--demo", "--tag", "nope")
    assert unknown.returncode == 2
    assert "no journey to run has the tag 'nope'; tags in built-in demo config: " in unknown.stderr
    assert "checkout, discounts, images, payment" in unknown.stderr


def test_quiet_says_only_what_failed_with_owner_and_next_step() -> None:
    result = run_cli(
        "run-smoke", *FAST_FAIL, "--quiet", "--fault", "discount-engine-down",
        "--journey", "discount-codes", "--journey", "payment-sandbox",
    )  # fmt: skip
    assert result.returncode == 1
    out = result.stdout
    assert "PASS" not in out and "payment-sandbox" not in out.split("FAILED:")[0]
    assert "discount-codes\n  => FAILED at step 'apply SAVE10' (http_error)" in out
    assert "What to do: The shop answered with an HTTP error." in out
    assert "Owner: Demo shop marketing (marketing@example.com)" in out
    assert "FAILED: 1 of 2 journeys passed" in out


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    args = [str(BIN / "run-smoke"), *FAST_FAIL, "--journey", "payment-sandbox"]
    args += ["--fault", "payment-provider-down"]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["CHECKOUT_MONITOR_ARTIFACTS_DIR"] = ARTIFACTS
    assert SGR.search(_run_on_a_terminal(args, env))
    plain = _run_on_a_terminal(args, {**env, "NO_COLOR": "1"})
    assert not SGR.search(plain)  # no colour or bold; the progress line may still move
    assert "FAILED at step 'payment provider health'" in plain
    piped = subprocess.run(
        args, capture_output=True, text=True, env=env, cwd=REPO, timeout=120, check=False
    )
    assert "\x1b[" not in piped.stdout
    assert "FAILED at step 'payment provider health'" in piped.stdout


def _run_on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    leader, follower = pty.openpty()
    process = subprocess.Popen(args, stdout=follower, stderr=follower, env=env, cwd=REPO)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_a_pass_on_retry_is_reported_flaky(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop()
    monitors = tmp_path / "monitors"
    monitors.mkdir()
    marker = tmp_path / "failed-once"
    (monitors / "wobbly.py").write_text(
        "from pathlib import Path\n"
        "from checkout_monitor import CheckFailed, FailureKind, JourneyRun, journey\n\n"
        '@journey("wobbly")\n'
        "async def run(run: JourneyRun) -> None:\n"
        '    async with run.step("open product page"):\n'
        "        await run.shop.open_product()\n"
        '    async with run.step("check the price"):\n'
        f"        marker = Path({str(marker)!r})\n"
        "        if not marker.exists():\n"
        "            marker.write_text('x')\n"
        "            raise CheckFailed(FailureKind.ASSERTION, 'the price was missing, once')\n"
    )
    config = write_shop_config(
        tmp_path / "c.yaml", shop, journey={"journey": "wobbly"}, defaults={"retries": 1}
    )
    report = tmp_path / "r.json"
    result = run_cli(
        "run-smoke", "--config", str(config), "--monitors", str(monitors), "--json", str(report)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "attempt 1 failed at step 'check the price' (assertion); trying again" in out
    assert "=> FLAKY: passed on attempt 2" in out
    assert "attempt 1 failed at step 'check the price' (assertion): the price was missing" in out
    assert "flaky (passed on a retry): product-to-checkout" not in out
    assert "flaky (passed on a retry): wobbly" in out
    journey = json.loads(report.read_text())["journeys"][0]
    assert journey["ok"] and journey["flaky"]
    assert len(journey["attempts"]) == 2


def test_triage_fills_in_the_incident_checklist_and_writes_markdown(tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"
    result = run_cli(
        "run-smoke", *FAST_FAIL, "--triage", "--fault", "discount-engine-down",
        env={"CHECKOUT_MONITOR_ARTIFACTS_DIR": str(artifacts)},
    )  # fmt: skip
    assert result.returncode == 1
    out = result.stdout
    assert "1. [PASS] Cart funnel smoke test: " in out
    assert "2. [PASS] Checkout token: 1 check(s) passed" in out
    assert "3. [FAIL] Discount engine: 'apply SAVE10' failed (http_error)" in out
    assert "4. [PASS] Payment provider health" in out
    assert "5. [PASS] Product page media integrity" in out
    assert "owner: Demo shop marketing (marketing@example.com)" in out
    (markdown,) = artifacts.glob("triage-*.md")
    text = markdown.read_text()
    assert "- [ ] **Discount engine**: FAIL: 'apply SAVE10' failed (http\\_error)" in text
    assert "- [x] **Cart funnel smoke test**: PASS" in text
    assert f"paste into the incident channel: {markdown}" in out


def test_triage_runs_every_check() -> None:
    result = run_cli("run-smoke", "--demo", "--triage", "--journey", "discount-codes")
    assert result.returncode == 2
    assert "--triage runs every check: leave out --journey and --tag" in result.stderr


def test_an_incident_run_explains_itself_and_leaks_nothing(tmp_path: Path) -> None:
    """The issue's own yardstick: a fault, an HTML report and JUnit XML, read as a person
    and as a CI tool would, and every file written searched for the planted secret."""
    artifacts, html, junit, report = (tmp_path / n for n in ("a", "r.html", "r.xml", "r.json"))
    result = run_cli(
        "run-smoke", "--demo", "--fault", "discount-engine-down", "--release", "v2.4.1",
        "--html", str(html), "--junit", str(junit), "--json", str(report),
        env={"CHECKOUT_MONITOR_ARTIFACTS_DIR": str(artifacts)},
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "=> FAILED at step 'apply SAVE10' (http_error)" in out
    assert "(all 2 attempts)" in out  # retried once, and still failing
    assert "What to do: The shop answered with an HTTP error." in out
    assert "Owner: Demo shop marketing (marketing@example.com)" in out
    screenshot = re.search(r"Screenshot: (\S+)", out)
    assert screenshot and (artifacts / screenshot[1]).is_file()
    assert f"HTML report: {html}" in out and f"JUnit XML: {junit}" in out

    page = html.read_text()
    assert "apply SAVE10" in page and "data:image/png;base64," in page and "v2.4.1" in page
    journeys = json.loads(report.read_text())
    assert journeys["release"] == "v2.4.1"
    suites = {s.name: s for s in JUnitXml.fromfile(str(junit))}
    (failed,) = [case for case in suites["discount-codes"] if not case.is_passed]
    assert failed.name == "apply SAVE10"
    attachments = re.findall(r"\[\[ATTACHMENT\|(.+?)\]\]", failed.system_out or "")
    assert attachments and all(Path(p).is_file() for p in attachments)

    token = re.search(r"admin token (\S+)", out)
    assert token, out
    planted = token[1]  # a ${ENV} value of the demo config: in no file, ever
    written = [html, junit, report, *files_under(artifacts)]
    assert any(p.name == "trace.zip" for p in written)
    assert not found([planted], written)


def test_a_report_that_cannot_be_written_spoils_neither_the_others_nor_the_verdict(
    tmp_path: Path,
) -> None:
    junit = tmp_path / "r.xml"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_cli(
        "run-smoke", *FAST_FAIL, "--journey", "payment-sandbox", "--fault", "payment-provider-down",
        "--json", str(blocker / "r.json"), "--junit", str(junit),
    )  # fmt: skip
    assert result.returncode == 1  # the shop's failure, not exit 2 for the report
    assert junit.is_file()
    assert f"could not write the JSON report to {blocker / 'r.json'}" in result.stderr
