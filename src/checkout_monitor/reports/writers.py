"""The report formats ``run-smoke`` can write, one entry each: the only list to extend.

A format is a writer function ``(path, results, info)`` in its own module; its command line
option (``--json PATH``) is made from this table. Writers are imported when used, so a run
that writes no HTML never imports the HTML report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:  # the table is read to build the command line, before any run
    from checkout_monitor.reports.reporter import Reporter
    from checkout_monitor.reports.run_info import RunInfo
    from checkout_monitor.results import JourneyResult


class ReportWriter(Protocol):
    def __call__(self, path: Path, results: Sequence[JourneyResult], info: RunInfo) -> None:
        """Write the whole report to ``path``, or raise ``OSError`` having written nothing."""


@dataclass(frozen=True)
class ReportFormat:
    option: str  # the command line option, without its dashes
    title: str  # how messages name it: "could not write the JSON report to ..."
    help: str
    writer: str  # "module:function" under checkout_monitor.reports

    def load(self) -> ReportWriter:
        module, _, function = self.writer.partition(":")
        return cast(ReportWriter, getattr(import_module(module), function))


REPORT_FORMATS = (
    ReportFormat(
        "json",
        "JSON report",
        "also write results as JSON",
        "checkout_monitor.reports.json_report:write_json_report",
    ),
    ReportFormat(
        "html",
        "HTML report",
        "also write a self-contained HTML report",
        "checkout_monitor.reports.html_report:write_html",
    ),
    ReportFormat(
        "junit",
        "JUnit XML",
        "also write JUnit XML",
        "checkout_monitor.reports.junit_report:write_junit",
    ),
)


def write_reports(
    requested: Mapping[str, Path | None],
    results: Sequence[JourneyResult],
    info: RunInfo,
    reporter: Reporter,
) -> list[str]:
    """Every report asked for (by option name); one that cannot be written spares the rest."""
    problems = []
    for report in REPORT_FORMATS:
        path = requested.get(report.option)
        if path is None:
            continue
        try:
            report.load()(path, results, info)
        except OSError as exc:
            problems.append(f"could not write the {report.title} to {path}: {exc}")
        else:
            reporter.note(f"{report.title}: {path}")
    return problems
