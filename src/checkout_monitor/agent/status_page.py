"""``/``: the status page a shop owner looks at, and the ``/evidence/`` files it links to.

``/?range=24h`` picks the chart range (1h, 24h, 7d, 30d); ``/?journey=NAME`` one journey
with a chart per step. Sources are asked per request, so a reloaded config (new journeys,
a new history path or artifacts folder) shows at the next load of the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from checkout_monitor.agent.evidence_files import PREFIX, evidence_page
from checkout_monitor.agent.status_data import DEFAULT_RANGE, RANGES, JourneyInfo, assemble
from checkout_monitor.agent.status_html import CONTENT_SECURITY_POLICY, render
from checkout_monitor.agent.status_server import Answer, WebPage

_HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class StatusSources:
    """Where the page reads from, each asked per request."""

    journeys: Callable[[], Sequence[JourneyInfo]]
    history_path: Callable[[], Path | None]  # None: the history is off
    history_problem: Callable[[], str | None]  # why the last run was not recorded
    artifacts_root: Callable[[], Path]
    # the config's ${ENV} values, redacted from every text the page shows
    secrets: Callable[[], Iterable[str]] = lambda: ()
    # the config's location: the page shows the runs this agent made there (None: any)
    location: Callable[[], str | None] = lambda: None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def _headers() -> tuple[tuple[str, str], ...]:
    return (
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
    )


def status_page(sources: StatusSources) -> WebPage:
    """The page at ``/``."""

    def page(path: str, query: Mapping[str, list[str]]) -> Answer:
        range_name = (query.get("range") or [DEFAULT_RANGE])[-1]
        if range_name not in RANGES:
            choices = ", ".join(RANGES)
            return _plain(400, f"unknown range {range_name!r}: choose one of {choices}")
        journeys = sources.journeys()
        named = query.get("journey")
        detail = named[-1] if named else None
        if detail is not None and detail not in {info.name for info in journeys}:
            return _plain(404, f"no journey named {detail!r} in the config")
        data = assemble(
            journeys,
            sources.history_path(),
            sources.history_problem(),
            sources.artifacts_root(),
            sources.clock(),
            range_name,
            detail,
            sources.secrets(),
            sources.location(),
        )
        return Answer(200, render(data).encode(), _HTML, _headers())

    return page


def _plain(status: int, message: str) -> Answer:
    body = f"<!DOCTYPE html><title>{status}</title><p>{escape(message)}</p><p><a href=/>back</a>"
    return Answer(status, body.encode(), _HTML, _headers())


def status_pages(sources: StatusSources) -> dict[str, WebPage]:
    """Both pages, by the path they answer: ``/`` and the ``/evidence/`` prefix."""
    return {"/": status_page(sources), PREFIX: evidence_page(sources.artifacts_root)}
