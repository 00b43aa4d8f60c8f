"""The status page and its evidence files, served by the real listener over HTTP from a run
history seeded through the real writer: what it shows, escaping, ranges, a broken history,
auth, and evidence paths that try to leave the artifacts folder."""

from __future__ import annotations

import http.client
import io
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from html import unescape
from pathlib import Path

import httpx
import pytest
from PIL import Image
from prometheus_client import CollectorRegistry

from checkout_monitor.agent.latency_chart import latency_chart
from checkout_monitor.agent.status_data import JourneyInfo
from checkout_monitor.agent.status_html import INCIDENTS_SHOWN
from checkout_monitor.agent.status_page import StatusSources, status_pages
from checkout_monitor.agent.status_server import Readiness, StatusServer
from checkout_monitor.config.web_config import load_web_config
from checkout_monitor.failure_kinds import KIND_INFO, FailureKind
from checkout_monitor.history import DurationBucket, HistoryReader, HistoryStore, SuccessRate
from checkout_monitor.results import Evidence
from support.history_seed import SECRET, T0, result
from support.listener_pki import HASH, PASSWORD, USER, web_config_file
from support.secret_search import found_spelled

HOSTILE = '<script>alert("pwned")</script> & <img src=x onerror=alert(1)>'
NOW = T0 + timedelta(minutes=30)
RUN = "2026-11-02T09-08-00Z-0a1b2c"  # a run folder, named as evidence/artifacts.py names it
EVIDENCE = f"{RUN}/guest-checkout/attempt-1"  # the ongoing incident's evidence


@dataclass
class Site:
    url: str
    root: Path  # the artifacts folder
    history: Path
    problem: list[str | None]  # what the recorder would say; tests set it

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=10)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("status")
    history = folder / "history.sqlite3"
    store = HistoryStore(history)
    # P P P F F F P P F: an incident that ended (payment declined), then one still going
    for minute, letter in enumerate("PPPFFFPPF"):
        kwargs: dict[str, object] = {}
        if minute == 8:
            kwargs = {"kind": FailureKind.ELEMENT_MISSING, "message": HOSTILE}
        outcome = {"P": "passed", "F": "failed"}[letter]
        run = result(minute, outcome, **kwargs)  # type: ignore[arg-type]
        if minute == 8:
            run = replace(run, evidence=Evidence(folder=EVIDENCE))
        store.record(run, source="serve")
    store.close()
    root = folder / "artifacts"
    evidence = root / EVIDENCE
    evidence.mkdir(parents=True)
    (evidence / "screenshot.png").write_bytes(_png())
    (evidence / "page.html").write_text("<html><script>alert(1)</script></html>")
    with zipfile.ZipFile(evidence / "trace.zip", "w") as trace:
        trace.writestr("trace.trace", "{}")
    (evidence / "notes.py").write_text("print('not evidence')")
    (evidence / "notes.json").write_text("{}")
    (evidence / "screenshot.PNG").write_bytes(_png())
    (root / "last-passed.json").write_text("{}")  # the recorder's, but not evidence
    (root / RUN / "screenshot.png").write_bytes(_png())  # not at an attempt's depth
    inside = root / "alerts" / "guest-checkout" / "attempt-1"  # not a run folder
    inside.mkdir(parents=True)
    (inside / "console.txt").write_text("alert state")
    (root / "2026-11-02T09-09-00Z-eeeeee").symlink_to(root / "alerts")
    (folder / "outside.txt").write_text("outside the artifacts folder")
    (evidence / "escape.txt").symlink_to(folder / "outside.txt")
    problem: list[str | None] = [None]
    journeys = [
        JourneyInfo("guest-checkout", "Shop <team>", "https://example.com/runbook#pay"),
        JourneyInfo("never-ran", None, "javascript:alert(1)"),
    ]
    sources = StatusSources(
        journeys=lambda: journeys,
        history_path=lambda: history,
        history_problem=lambda: problem[0],
        artifacts_root=lambda: root,
        clock=lambda: NOW,
    )
    server = StatusServer(
        "127.0.0.1", 0, CollectorRegistry(), Readiness(), web_pages=status_pages(sources)
    ).start()
    try:
        yield Site(f"http://{server.address}", root, history, problem)
    finally:
        server.stop()


def _text(html: str) -> str:
    """The page's words, tags removed, spaces collapsed."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_the_page_shows_each_journey_its_incidents_and_the_latest_failure(site: Site) -> None:
    answer = site.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    text = _text(answer.text)
    assert "failing since 2026-11-02 09:08:00 UTC" in text
    assert "success rate, 24 hours 55.6% (5 of 9)" in text
    assert "success rate, 7 days 55.6% (5 of 9)" in text
    assert "never-ran" in text and "no runs yet" in text
    assert "<th>owner</th><td>Shop &lt;team&gt;</td>" in answer.text
    assert '<a href="https://example.com/runbook#pay">' in answer.text
    assert "javascript:alert(1)" in text and 'href="javascript:' not in answer.text
    # the incidents, newest first: the ongoing one, then the one that ended at the next pass
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(\d+)</td>", answer.text)
    assert rows == [
        ("2026-11-02 09:08:00 UTC", "ongoing", "1"),
        ("2026-11-02 09:03:00 UTC", "2026-11-02 09:06:03 UTC", "3"),
    ]
    assert KIND_INFO[FailureKind.PAYMENT_DECLINED].advice in text
    assert KIND_INFO[FailureKind.ELEMENT_MISSING].advice in text
    # the latest failure: its screenshot inline, its trace and HTML linked
    assert f'<img class="screenshot" src="/evidence/{EVIDENCE}/screenshot.png"' in answer.text
    assert f'href="/evidence/{EVIDENCE}/trace.zip"' in answer.text
    assert f'href="/evidence/{EVIDENCE}/page.html"' in answer.text
    # a chart per journey with a line through the buckets (one run a minute: 15 min buckets)
    charts = re.findall(r'<path class="average" d="(M[^"]*)"', answer.text)
    assert len(charts) == 1 and charts[0].count(",") == 1  # all 9 runs in one bucket


def test_shop_messages_are_escaped(site: Site) -> None:
    body = site.get("/").text
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;img" in body


def test_headers_forbid_scripts_and_sniffing(site: Site) -> None:
    answer = site.get("/")
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+'", policy)
    assert "'unsafe-inline'" not in policy
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_range_links_and_the_detail_view(site: Site) -> None:
    page = site.get("/").text
    assert all(f'href="?range={name}"' in page for name in ("1h", "24h", "7d", "30d"))
    assert "last 24h" in page
    # at 09:30, the last hour holds all 9 runs, one bucket a minute: a line of 9 points
    hour = site.get("/?range=1h").text
    line = re.findall(r'<path class="average" d="(M[^"]*)"', hour)[0]
    assert line.count(",") == 9
    assert "class=current>1h<" in hour
    detail = site.get("/?journey=guest-checkout&range=1h").text
    assert "step: open product" in detail and "step: pay" in detail
    assert "never-ran" not in _text(detail)
    assert 'href="?journey=guest-checkout&amp;range=7d"' not in detail  # journey kept:
    assert 'href="?range=7d&amp;journey=guest-checkout"' in detail
    assert site.get("/?range=2y").status_code == 400
    missing = site.get("/?journey=%3Cscript%3E")
    assert missing.status_code == 404 and "<script>" not in missing.text


def test_a_history_problem_is_a_banner_and_the_journeys_stay(site: Site, tmp_path: Path) -> None:
    site.problem[0] = "run history not recorded in /x: the disk is full"
    try:
        banner = site.get("/").text
    finally:
        site.problem[0] = None
    assert '<p class="banner" role="alert">run history not recorded in /x' in banner
    saved = tmp_path / "saved.sqlite3"
    shutil.copy(site.history, saved)
    site.history.write_bytes(b"this is not a database" * 100)
    try:
        page = site.get("/")
    finally:
        shutil.copy(saved, site.history)
    assert page.status_code == 200
    assert re.search(
        r'class="banner" role="alert">the run history in \S+ cannot be read', page.text
    )
    text = _text(page.text)
    assert "guest-checkout" in text and "never-ran" in text


def test_evidence_files_are_served_with_their_types(site: Site) -> None:
    shot = site.get(f"/evidence/{EVIDENCE}/screenshot.png")
    assert shot.status_code == 200 and shot.headers["content-type"] == "image/png"
    assert shot.content == (site.root / EVIDENCE / "screenshot.png").read_bytes()
    trace = site.get(f"/evidence/{EVIDENCE}/trace.zip")
    assert trace.headers["content-type"] == "application/zip"
    html = site.get(f"/evidence/{EVIDENCE}/page.html")
    assert html.status_code == 200
    assert html.headers["content-disposition"].startswith("attachment")
    assert html.headers["content-security-policy"].startswith("sandbox")
    assert html.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "../outside.txt",
        "%2e%2e/outside.txt",
        "%2E%2E%2Foutside.txt",
        f"{EVIDENCE}/../../../../outside.txt",
        f"{EVIDENCE}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside.txt",
        "..%5coutside.txt",
        "..\\outside.txt",
        "/etc/hostname.txt",
        "%2fetc%2fhostname.txt",
        f"{EVIDENCE}//screenshot.png",
        f"{EVIDENCE}/./screenshot.png",
        f"{EVIDENCE}/escape.txt",  # a symlink out of the folder
        f"{EVIDENCE}/notes.py",  # not a kind of evidence
        f"{EVIDENCE}/notes.json",  # a kind, but not a name the recorder writes
        f"{EVIDENCE}/screenshot.PNG",
        "last-passed.json",
        f"{RUN}/screenshot.png",  # a name the recorder writes, at the wrong depth
        "2026-11-02T09-09-00Z-eeeeee/guest-checkout/attempt-1/console.txt",  # symlinked folder
        "%252e%252e/outside.txt",  # encoded twice
        f"{EVIDENCE}/%252e%252e/%252e%252e/%252e%252e/%252e%252e/outside.txt",
        f"{EVIDENCE}/screenshot.png%00.txt",
        f"{EVIDENCE}/missing.png",
        f"{EVIDENCE}",
        "%ff%fe.txt",
    ],
)
def test_evidence_paths_that_leave_the_folder_are_404(site: Site, path: str) -> None:
    _refused(site, path)


def test_an_absolute_path_is_404_even_to_a_file_that_exists(site: Site) -> None:
    outside = site.root.parent / "outside.txt"
    assert outside.is_file()
    _refused(site, str(outside))  # /evidence//tmp/.../outside.txt
    _refused(site, str(outside).replace("/", "%2f"))


def _refused(site: Site, path: str) -> None:
    # http.client sends the path as written: httpx and browsers would tidy ../ and ./ away
    connection = http.client.HTTPConnection(site.url.removeprefix("http://"), timeout=10)
    try:
        connection.request("GET", f"/evidence/{path}")
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    assert answer.status == 404
    assert b"outside the artifacts folder" not in body


def test_the_page_and_evidence_need_the_password(tmp_path: Path, site: Site) -> None:
    web = load_web_config(web_config_file(tmp_path, f"basic_auth_users:\n  {USER}: '{HASH}'\n"))
    sources = StatusSources(
        journeys=lambda: [JourneyInfo("guest-checkout")],
        history_path=lambda: site.history,
        history_problem=lambda: None,
        artifacts_root=lambda: site.root,
        clock=lambda: NOW,
    )
    server = StatusServer(
        "127.0.0.1", 0, CollectorRegistry(), Readiness(), web=web, web_pages=status_pages(sources)
    ).start()
    try:
        url = f"http://{server.address}"
        shot = f"/evidence/{EVIDENCE}/screenshot.png"
        for path in ("/", "/?range=7d", shot):
            assert httpx.get(url + path, timeout=10).status_code == 401
            assert httpx.get(url + path, auth=(USER, "wrong"), timeout=10).status_code == 401
            assert httpx.get(url + path, auth=(USER, PASSWORD), timeout=10).status_code == 200
    finally:
        server.stop()


def test_the_chart_says_what_it_shows() -> None:
    since = T0
    buckets = [
        DurationBucket(T0 + timedelta(minutes=m), 2, 1.0 + m, 2.0 + m, 3.0 + m) for m in (0, 5)
    ]
    svg = latency_chart(buckets, since, T0 + timedelta(minutes=10), 60, "guest <checkout>")
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title>guest &lt;checkout&gt;: 4 runs, p95 up to 7.00 s</title>" in svg
    assert re.search(r'<path class="p95" d="M[\d.]+,[\d.]+ L[\d.]+,[\d.]+"', svg)
    assert ">09:00 UTC<" in svg and ">09:10 UTC<" in svg  # the time axis
    day = latency_chart([], since, T0 + timedelta(days=1), 900, "x")
    assert ">02 Nov 09:00 UTC<" in day and ">03 Nov 09:00 UTC<" in day  # a date past a day
    ticks = re.search(r'<path class="p95-mark" d="([^"]+)"', svg)
    assert ticks and ticks.group(1).count("h10") == 2  # each p95 visible on its own
    one = latency_chart(buckets[:1], since, T0 + timedelta(minutes=10), 60, "x")
    tick = re.search(r'<path class="p95-mark" d="M([\d.]+),([\d.]+) h10"/>', one)
    assert tick and '<circle class="point"' in one  # one bucket: a point and a p95 tick
    empty = latency_chart([], since, T0 + timedelta(hours=1), 60, "x")
    assert "no runs in this range" in empty and "<path" not in empty


def test_only_the_agents_own_runs_set_the_state_and_a_skipped_run_hides_no_incident(
    tmp_path: Path,
) -> None:
    """run-smoke --history runs (a CI failure after a deploy) and another location's runs
    in the same file change nothing; a skipped latest run leaves an incident failing."""
    history = tmp_path / "history.sqlite3"
    store = HistoryStore(history)
    for minute in range(3):
        store.record(result(minute, "passed"), source="serve")
    for minute in range(3, 6):  # CI and another agent fail after the agent's last pass
        store.record(result(minute, "failed"), source="run-smoke")
        elsewhere = replace(result(minute + 0.5, "failed"), location="us-east")
        store.record(elsewhere, source="serve")
    for minute, outcome in ((1, "failed"), (2, "failed"), (3, "skipped")):
        store.record(result(minute, outcome, journey="flaky"), source="serve")
    store.close()
    sources = StatusSources(
        journeys=lambda: [JourneyInfo("guest-checkout"), JourneyInfo("flaky")],
        history_path=lambda: history,
        history_problem=lambda: None,
        artifacts_root=lambda: tmp_path / "artifacts",
        location=lambda: "eu-west",
        clock=lambda: NOW,
    )
    server = StatusServer(
        "127.0.0.1", 0, CollectorRegistry(), Readiness(), web_pages=status_pages(sources)
    ).start()
    try:
        url = f"http://{server.address}"
        page = httpx.get(f"{url}/?journey=guest-checkout", timeout=10).text
        flaky = _text(httpx.get(f"{url}/?journey=flaky", timeout=10).text)
    finally:
        server.stop()
    text = _text(page)
    assert "state now passing" in text
    assert "success rate, 24 hours 100.0% (3 of 3)" in text
    assert "No incidents in this range" in text and "Latest failure" not in text
    assert "3 runs" in page  # the chart's summary: the agent's runs only
    assert "state now failing since 2026-11-02 09:01:00 UTC" in flaky


def test_a_page_reads_one_snapshot_of_the_history(tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite3"
    store = HistoryStore(history)
    store.record(result(0, "passed"), source="serve")
    reader = HistoryReader(history)
    try:
        with reader.snapshot():
            before = reader.success_rate("guest-checkout", T0)
            store.record(result(1, "failed"), source="serve")  # written mid-page
            during = reader.success_rate("guest-checkout", T0)
        after = reader.success_rate("guest-checkout", T0)
    finally:
        reader.close()
        store.close()
    assert before == during == SuccessRate(passed=1, failed=0)
    assert after == SuccessRate(passed=1, failed=1)


def test_config_secrets_never_reach_the_page_and_incidents_are_capped(tmp_path: Path) -> None:
    """An owner or runbook from ``${ENV}``, or a message a history kept in clear (written
    before a secret was one), shows redacted; a runbook's user:password@ not at all. A month
    of a flapping journey lists the newest incidents, not thousands."""
    history = tmp_path / "history.sqlite3"
    store = HistoryStore(history)
    for minute in range(24):  # F P F P ...: 12 incidents
        outcome = "failed" if minute % 2 == 0 else "passed"
        store.record(result(minute, outcome, message=f"token {SECRET} refused"), source="serve")
    store.close()
    runbook = f"https://ops:{SECRET}@wiki.example.com/pay?token={SECRET}"
    sources = StatusSources(
        journeys=lambda: [JourneyInfo("guest-checkout", f"Shop team, pager {SECRET}", runbook)],
        history_path=lambda: history,
        history_problem=lambda: None,
        artifacts_root=lambda: tmp_path / "artifacts",
        secrets=lambda: [SECRET],
        clock=lambda: NOW,
    )
    server = StatusServer(
        "127.0.0.1", 0, CollectorRegistry(), Readiness(), web_pages=status_pages(sources)
    ).start()
    try:
        url = f"http://{server.address}"
        overview = httpx.get(f"{url}/?range=1h", timeout=10).text
        detail = httpx.get(f"{url}/?journey=guest-checkout&range=1h", timeout=10).text
    finally:
        server.stop()
    pages = [("/", overview), ("/?journey=guest-checkout", detail)]
    assert found_spelled([SECRET, "ops:"], texts=pages) == []
    for page in (overview, detail):
        assert "<td>Shop team, pager &lt;value from the environment&gt;</td>" in page
        assert '<a href="https://wiki.example.com/pay?token=&lt;value' in page
        assert "token &lt;value from the environment&gt; refused" in page
    assert overview.count("<tr><td>") == INCIDENTS_SHOWN == 10
    assert "the 10 newest of 12 in this range" in overview
    assert detail.count("<tr><td>") == 12 and "newest of" not in detail
