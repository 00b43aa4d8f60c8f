"""``--junit PATH``: JUnit XML, so a deploy pipeline shows each journey as a test suite.

One ``<testsuite>`` per journey, one ``<testcase>`` per step. Screenshots and traces are
named in ``<system-out>`` as ``[[ATTACHMENT|/abs/path]]`` lines, the convention Jenkins'
JUnit attachments plugin and GitLab read. Built with ElementTree, so quoting is never ours
to get wrong; characters XML 1.0 cannot carry at all are dropped first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from checkout_monitor.atomic_files import write_text
from checkout_monitor.reports.run_info import RunInfo
from checkout_monitor.results import Evidence, JourneyResult, StepResult, StepStatus

# Everything outside XML 1.0's Char production: no escaping can carry these.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(results: Sequence[JourneyResult], info: RunInfo) -> str:
    """The whole report as a JUnit XML document."""
    root = ET.Element("testsuites")
    _set(root, "name", "checkout-monitor")
    _set(root, "tests", str(sum(len(r.steps) for r in results)))
    _set(root, "failures", str(sum(_failures(r) for r in results)))
    _set(root, "errors", "0")
    _set(root, "skipped", str(sum(_skipped(r) for r in results)))
    _set(root, "time", _seconds(info.wall_seconds))
    _set(root, "timestamp", _timestamp(info.started_at))
    for result in results:
        root.append(_suite(result, info))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: Path, results: Sequence[JourneyResult], info: RunInfo) -> None:
    """Write the report whole or not at all."""
    write_text(path, render_junit(results, info))


def _suite(result: JourneyResult, info: RunInfo) -> ET.Element:
    suite = ET.Element("testsuite")
    _set(suite, "name", result.name)
    _set(suite, "tests", str(len(result.steps)))
    _set(suite, "failures", str(_failures(result)))
    _set(suite, "errors", "0")
    _set(suite, "skipped", str(_skipped(result)))
    _set(suite, "time", _seconds(result.duration_seconds))
    _set(suite, "timestamp", _timestamp(result.started_at))
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(result, info):
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
        elif step is failed:
            _add_failure(case, step, result)
            _add_output(case, _evidence_lines(result.evidence, info))
    if result.earlier_attempts:
        _add_output(suite, _earlier_lines(result, info))
    return suite


def _properties(result: JourneyResult, info: RunInfo) -> list[tuple[str, str]]:
    props = [
        ("storefront", result.storefront),
        ("location", result.location),
        ("owner", result.owner or ""),
        ("runbook", result.runbook or ""),
        ("release", info.release or ""),
        ("flaky", "true" if result.flaky else "false"),
        ("attempts", str(len(result.all_attempts))),
    ]
    if result.tags:
        props.append(("tags", ",".join(result.tags)))
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


def _evidence_lines(evidence: Evidence | None, info: RunInfo) -> list[str]:
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
        absolute = info.evidence_path(path)
        # CI tools fail or warn on attachments that are not there: name those as plain text.
        if absolute.is_file():
            lines.append(f"[[ATTACHMENT|{absolute}]]")
        else:
            lines.append(f"{label} missing: {absolute}")
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


def _earlier_lines(result: JourneyResult, info: RunInfo) -> list[str]:
    verdict = (
        f"FLAKY: passed on attempt {result.attempt}"
        if result.ok
        else f"failed on all {len(result.all_attempts)} attempts"
    )
    lines = [verdict]
    for earlier in result.earlier_attempts:
        lines.append(f"attempt {earlier.attempt}: {_attempt_summary(earlier)}")
        lines.extend(_evidence_lines(earlier.evidence, info))
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
