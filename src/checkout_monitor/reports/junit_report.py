"""``--junit PATH``: JUnit XML, so a deploy pipeline shows each journey as a test suite.

One ``<testsuite>`` per journey, one ``<testcase>`` per step. Screenshots and traces are
named in ``<system-out>`` as ``[[ATTACHMENT|/abs/path]]`` lines, the convention Jenkins'
JUnit attachments plugin and GitLab read (GitLab wants them relative to ``$CI_PROJECT_DIR``,
so under GitLab CI they are written that way). Built with ElementTree, so quoting is never ours
to get wrong; characters XML 1.0 cannot carry at all are dropped first.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from checkout_monitor.reports.atomic_files import write_text
from checkout_monitor.reports.blocked_requests import blocked_note
from checkout_monitor.reports.run_info import RunInfo
from checkout_monitor.results import Evidence, JourneyResult, StepResult, StepStatus

GITLAB_PROJECT_DIR_ENV = "CI_PROJECT_DIR"
# Everything outside XML 1.0's Char production: no escaping can carry these.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(
    results: Sequence[JourneyResult], info: RunInfo, attachments_base: Path | None = None
) -> str:
    """The whole report as a JUnit XML document; attachments under ``attachments_base`` are
    named relative to it, all others by absolute path."""
    root = ET.Element("testsuites")
    _set(root, "name", "checkout-monitor")
    _set(root, "tests", str(sum(len(r.steps) for r in results)))
    _set(root, "failures", str(sum(_failures(r) for r in results)))
    _set(root, "errors", "0")
    _set(root, "skipped", str(sum(_skipped(r) for r in results)))
    _set(root, "time", _seconds(info.wall_seconds))
    _set(root, "timestamp", _timestamp(info.started_at))
    for result in results:
        root.append(_suite(result, _Paths(info, attachments_base)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(
    path: Path,
    results: Sequence[JourneyResult],
    info: RunInfo,
    environ: Mapping[str, str] = os.environ,
) -> None:
    """Write the report whole or not at all; under GitLab CI, attachments relative to
    ``$CI_PROJECT_DIR``, the only form GitLab links."""
    project_dir = environ.get(GITLAB_PROJECT_DIR_ENV)
    base = Path(project_dir).absolute() if project_dir else None
    write_text(path, info.scrubbed(render_junit(results, info, base)))


class _Paths:
    """How evidence paths are written: absolute, or relative to the CI project folder."""

    def __init__(self, info: RunInfo, base: Path | None) -> None:
        self.info = info
        self._base = base

    def attachment(self, path: str) -> tuple[Path, str]:
        absolute = self.info.evidence_path(path)
        if self._base is not None and absolute.is_relative_to(self._base):
            return absolute, absolute.relative_to(self._base).as_posix()
        return absolute, str(absolute)


def _suite(result: JourneyResult, paths: _Paths) -> ET.Element:
    suite = ET.Element("testsuite")
    _set(suite, "name", result.name)
    _set(suite, "tests", str(len(result.steps)))
    _set(suite, "failures", str(_failures(result)))
    _set(suite, "errors", "0")
    _set(suite, "skipped", str(_skipped(result)))
    _set(suite, "time", _seconds(result.duration_seconds))
    _set(suite, "timestamp", _timestamp(result.started_at))
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(result, paths.info):
        prop = ET.SubElement(properties, "property")
        _set(prop, "name", name)
        _set(prop, "value", value)
    failed = result.failed_step
    for step in result.steps:
        case = ET.SubElement(suite, "testcase")
        _set(case, "classname", result.name)
        _set(case, "name", step.name)
        _set(case, "time", _seconds(step.duration_seconds))
        if step.status is StepStatus.SKIPPED:
            skipped = ET.SubElement(case, "skipped")
            if step.message:
                _set(skipped, "message", step.message)
        elif step.status is StepStatus.FAILED:  # soft steps: every failed one, not the first
            _add_failure(case, step, result)
            if step is failed:  # the attempt's evidence is one set: with its first failure
                _add_output(case, _evidence_lines(result.evidence, paths))
    suite_lines = []
    if result.skipped:
        suite_lines.append(
            f"SKIPPED: nothing it could check here (all {len(result.steps)} steps skipped)"
        )
    if result.earlier_attempts:
        suite_lines += _earlier_lines(result, paths)
    _add_output(suite, suite_lines)
    return suite


def _properties(result: JourneyResult, info: RunInfo) -> list[tuple[str, str]]:
    props = [
        ("storefront", result.storefront),
        ("location", result.location),
        ("owner", result.owner or ""),
        ("runbook", result.runbook or ""),
        ("release", info.release or ""),
        ("status", result.status.value),
        ("flaky", "true" if result.flaky else "false"),
        ("attempts", str(len(result.all_attempts))),
    ]
    if result.tags:
        props.append(("tags", ",".join(result.tags)))
    if result.blocked_requests:
        props.append(("blocked_requests", blocked_note(result)))
    for earlier in result.earlier_attempts:
        props.append((f"attempt_{earlier.attempt}", _attempt_summary(earlier)))
    return props


def _add_failure(case: ET.Element, step: StepResult, result: JourneyResult) -> None:
    kind = step.failure_kind
    failure = ET.SubElement(case, "failure")
    _set(failure, "message", f"{kind.value if kind else 'failed'}: {step.message}")
    _set(failure, "type", kind.value if kind else "unknown")
    body = [step.message] if step.message else []
    if kind is not None:
        body.append(f"What to do: {kind.advice}")
        body.append(f"Failure class: {kind.failure_class.value}")
    if result.owner:
        body.append(f"Owner: {result.owner}")
    if result.runbook:
        body.append(f"Runbook: {result.runbook}")
    failure.text = _clean("\n".join(body))


def _evidence_lines(evidence: Evidence | None, paths: _Paths) -> list[str]:
    """Attachment lines for the files a person opens first, then what the page logged."""
    if evidence is None:
        return []
    lines = []
    for label, path in (
        ("screenshot", evidence.screenshot),
        ("trace", evidence.trace),
        ("page HTML", evidence.html),
    ):
        if path is None:
            continue
        absolute, written = paths.attachment(path)
        # Never point a CI tool at a file that is not there: name it as plain text instead.
        if absolute.is_file():
            lines.append(f"[[ATTACHMENT|{written}]]")
        else:
            lines.append(f"{label} missing: {written}")
    lines.extend(
        f"failed request: {r.method} {r.url} -> "
        + (str(r.status) if r.status is not None else "no answer")
        + (f" ({r.error})" if r.error else "")
        for r in evidence.failed_requests
    )
    lines.extend(f"console error: {line}" for line in evidence.console_errors)
    lines.extend(f"broken image: {url}" for url in evidence.broken_images)
    lines.extend(f"evidence problem: {problem}" for problem in evidence.problems)
    return lines


def _earlier_lines(result: JourneyResult, paths: _Paths) -> list[str]:
    if result.flaky:
        verdict = f"FLAKY: passed on attempt {result.attempt}"
    elif result.skipped:
        verdict = f"skipped on attempt {result.attempt}, after failed attempts"
    else:
        verdict = f"failed on all {len(result.all_attempts)} attempts"
    lines = [verdict]
    for earlier in result.earlier_attempts:
        lines.append(f"attempt {earlier.attempt}: {_attempt_summary(earlier)}")
        lines.extend(_evidence_lines(earlier.evidence, paths))
    return lines


def _attempt_summary(attempt: JourneyResult) -> str:
    failed = attempt.failed_step
    if failed is None:
        return "passed"
    kind = failed.failure_kind.value if failed.failure_kind else "unknown"
    return f"failed at step {failed.name!r} ({kind}): {failed.message}"


def _add_output(parent: ET.Element, lines: list[str]) -> None:
    if lines:
        out = ET.SubElement(parent, "system-out")
        out.text = _clean("\n".join(lines))


def _failures(result: JourneyResult) -> int:
    return sum(1 for step in result.steps if step.status is StepStatus.FAILED)


def _skipped(result: JourneyResult) -> int:
    return sum(1 for step in result.steps if step.status is StepStatus.SKIPPED)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC without an offset: the form the JUnit schema allows."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _set(element: ET.Element, name: str, value: str) -> None:
    element.set(name, _clean(value))


def _clean(text: str) -> str:
    """Shop text that XML 1.0 can carry: ElementTree escapes, but cannot drop, the rest."""
    return _NOT_XML.sub("", text)
