"""The status page as HTML: server-rendered, no script, every shop-supplied text escaped.

The one ``<style>`` block is allowed by its hash in the Content-Security-Policy, so the
policy can forbid everything else: scripts, inline styles, anything from another origin.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from html import escape
from urllib.parse import urlencode

from checkout_monitor.agent.latency_chart import latency_chart
from checkout_monitor.agent.status_data import RANGES, JourneyStatus, StatusData
from checkout_monitor.evidence.recorder import HTML, SCREENSHOT, TRACE
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.history import Incident, SuccessRate
from checkout_monitor.reports.runbook_links import runbook_html

REFRESH_SECONDS = 60
# Incidents listed per journey, newest first: a month of a flapping journey is thousands of
# rows (a megabyte of HTML) nobody reads; the count says how many there were.
INCIDENTS_SHOWN = 10
INCIDENTS_SHOWN_IN_DETAIL = 100
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;max-width:70rem}"
    "h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}"
    ".banner{background:#fde2e1;border:1px solid #c0392b;padding:.6rem;margin:1rem 0}"
    ".journey{border:1px solid #ccc;border-radius:6px;padding:.8rem;margin:1rem 0}"
    ".passing{color:#1e7b34;font-weight:bold}.failing{color:#c0392b;font-weight:bold}"
    ".norun{color:#666;font-weight:bold}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;"
    "text-align:left;vertical-align:top}"
    ".chart .axis{stroke:#888}.chart .label{font-size:11px;fill:#444}"
    ".chart .average{fill:none;stroke:#2471a3;stroke-width:2}"
    ".chart .p95{fill:none;stroke:#c0392b;stroke-width:1.5;stroke-dasharray:4 3}"
    ".chart .p95-mark{fill:none;stroke:#c0392b;stroke-width:2}"
    ".chart .point{fill:#2471a3}.legend-avg{color:#2471a3}.legend-p95{color:#c0392b}"
    "img.screenshot{max-width:min(100%,40rem);border:1px solid #ccc}"
    "nav a{margin-right:.8rem}nav a.current{font-weight:bold}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; img-src 'self'; style-src 'sha256-{_STYLE_HASH}'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _rate(rate: SuccessRate) -> str:
    if rate.rate is None:
        return "no runs"
    return f"{rate.rate * 100:.1f}% ({rate.passed} of {rate.runs})"


def _kind_words(kind: str) -> str:
    """A failure kind and what it means, in the words the reports use."""
    try:
        advice = FailureKind(kind).advice
    except ValueError:
        return escape(kind)
    return f"<strong>{escape(kind)}</strong>: {escape(advice)}"


def _href(**query: str | None) -> str:
    return "?" + urlencode({key: value for key, value in query.items() if value})


def _state(status: JourneyStatus) -> str:
    latest = status.latest
    if status.failing_since is not None:  # an ongoing incident wins over a skipped run
        return f'<span class="failing">failing since {_when(status.failing_since)}</span>'
    if latest is None:
        return '<span class="norun">no runs yet</span>'
    if latest.status == "skipped":
        return '<span class="norun">skipped (nothing checked)</span>'
    return '<span class="passing">passing</span>'


def _journey(status: StatusData, journey: JourneyStatus) -> str:
    info, latest = journey.info, journey.latest
    name = escape(info.name)
    rows = [
        ("state now", _state(journey)),
        ("success rate, 24 hours", escape(_rate(journey.day))),
        ("success rate, 7 days", escape(_rate(journey.week))),
    ]
    if latest is not None:
        rows.append(
            (
                "last run",
                f"{_when(latest.finished_at)}, took {latest.duration_seconds:.2f} s",
            )
        )
    if info.owner:
        rows.append(("owner", escape(info.owner)))
    if info.runbook:
        rows.append(("runbook", runbook_html(info.runbook)))
    table = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    chart = latency_chart(
        journey.chart,
        status.since,
        status.now,
        status.bucket_seconds,
        f"{info.name}: run duration, last {status.range_name}",
    )
    steps = "".join(
        f"<h4>step: {escape(step)}</h4>"
        + latency_chart(
            buckets,
            status.since,
            status.now,
            status.bucket_seconds,
            f"{info.name}, step {step}: duration, last {status.range_name}",
        )
        for step, buckets in journey.step_charts
    )
    detail = (
        ""
        if status.detail
        else (
            f' <a href="{escape(_href(journey=info.name, range=status.range_name))}">'
            "details and steps</a>"
        )
    )
    return (
        f'<section class="journey" id="journey-{name}"><h3>{name}{detail}</h3>'
        f"<table>{table}</table>"
        f"<p>Duration of each run, last {escape(status.range_name)}: "
        '<span class="legend-avg">average (solid)</span>, '
        '<span class="legend-p95">95th percentile (dashed, a tick per bucket)</span></p>'
        f"{chart}{steps}{_incidents(journey.incidents, status)}</section>"
    )


def _incidents(incidents: list[Incident], status: StatusData) -> str:
    if not incidents:
        return "<p>No incidents in this range.</p>"
    shown = INCIDENTS_SHOWN_IN_DETAIL if status.detail else INCIDENTS_SHOWN
    rows = "".join(
        "<tr>"
        f"<td>{_when(incident.started_at)}</td>"
        f"<td>{'ongoing' if incident.ended_at is None else _when(incident.ended_at)}</td>"
        f"<td>{incident.runs_failed}</td>"
        f"<td>{'<br>'.join(_kind_words(kind) for kind in incident.failure_kinds)}</td>"
        f"<td>{escape(incident.last_message)}</td>"
        "</tr>"
        for incident in incidents[:shown]
    )
    caption = "Incidents (failed runs in a row), newest first"
    if len(incidents) > shown:
        caption += f": the {shown} newest of {len(incidents)} in this range"
    return (
        f'<table class="incidents"><caption>{caption}'
        "</caption><tr><th>started</th><th>ended</th><th>runs failed</th>"
        f"<th>failure kind</th><th>latest message</th></tr>{rows}</table>"
    )


def _latest_failure(status: StatusData) -> str:
    failure = status.latest_failure
    if failure is None:
        return ""
    run, links = failure.run, failure.links
    parts = [
        '<section id="latest-failure"><h2>Latest failure</h2>',
        f"<p>{escape(run.journey)}, {_when(run.finished_at)}, step "
        f"{escape(run.failed_step or '?')}: {_kind_words(run.failure_kind or 'unknown')}</p>",
        f"<p>{escape(run.message)}</p>",
    ]
    if SCREENSHOT in links:
        source = escape(links[SCREENSHOT])
        parts.append(
            f'<p><a href="{source}"><img class="screenshot" src="{source}" '
            f'alt="the page when {escape(run.journey)} failed"></a></p>'
        )
    files = [
        f'<a href="{escape(links[name])}">{label}</a>'
        for name, label in ((TRACE, "trace (trace.zip)"), (HTML, "page HTML (page.html)"))
        if name in links
    ]
    if files:
        parts.append(f"<p>{' · '.join(files)}</p>")
    elif not links:
        parts.append("<p>Its evidence files are gone (pruned, or never written).</p>")
    parts.append("</section>")
    return "".join(parts)


def _ranges(status: StatusData) -> str:
    links = "".join(
        f'<a href="{escape(_href(range=name, journey=status.detail))}"'
        f"{' class=current' if name == status.range_name else ''}>{name}</a>"
        for name in RANGES
    )
    return f'<nav aria-label="range">Range: {links}</nav>'


def render(status: StatusData) -> str:
    """The whole page."""
    banners = "".join(f'<p class="banner" role="alert">{escape(p)}</p>' for p in status.problems)
    title = "checkout-monitor status"
    heading = title
    back = ""
    if status.detail is not None:
        heading = f"{title}: {escape(status.detail)}"
        back = f'<p><a href="{escape(_href(range=status.range_name))}">all journeys</a></p>'
    journeys = "".join(_journey(status, journey) for journey in status.journeys)
    if not status.journeys:
        journeys = "<p>No journeys are configured.</p>"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{heading}</h1>{back}{banners}"
        f"<p>As of {_when(status.now)}; this page reloads every {REFRESH_SECONDS} s.</p>"
        f"{_ranges(status)}{_latest_failure(status)}<h2>Journeys</h2>{journeys}"
        "</body></html>"
    )
