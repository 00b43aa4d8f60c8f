"""``--html PATH``: one self-contained HTML file a person can open offline or on a phone.

Everything is inline (CSS, screenshots as ``data:`` URIs), there is no script, and a
Content-Security-Policy forbids loading anything, so the file can be mailed or attached to a
ticket as is. Every piece of text is escaped: step messages and URLs come from the shop.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from checkout_monitor import __version__
from checkout_monitor.failure_kinds import FailureClass
from checkout_monitor.reports.atomic_files import write_text
from checkout_monitor.reports.blocked_requests import blocked_note
from checkout_monitor.reports.run_info import RunInfo
from checkout_monitor.reports.runbook_links import runbook_html
from checkout_monitor.results import Evidence, JourneyResult, StepResult, StepStatus

_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
# Screenshots above this are linked by path, not inlined: the report must stay mailable.
_MAX_INLINE_BYTES = 8 * 1024 * 1024
# C0 controls other than tab and newline, and DEL: noise from a shop page, never meant to show.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

_CSS = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1d2125;background:#f4f5f7;overflow-wrap:anywhere}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.2rem;margin:0 0 .3rem}
h3{font-size:1rem;margin:1rem 0 .4rem}
.summary,.journey{background:#fff;border-radius:8px;padding:1rem;margin:0 0 1rem;
border-left:6px solid #2e7d32}
.summary.failed,.journey.failed{border-left-color:#c62828}
.summary.flaky,.journey.flaky{border-left-color:#ef8f00}
.summary.skipped,.journey.skipped{border-left-color:#78909c}
.verdict{font-weight:600;font-size:1.1rem;margin:0 0 .5rem}
.failed .verdict{color:#b71c1c}.flaky .verdict{color:#8a5300}.passed .verdict{color:#1b5e20}
.skipped .verdict{color:#37474f}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.15rem .8rem;margin:.4rem 0}
dt{color:#555}dd{margin:0;min-width:0}
.advice{background:#fff4e5;border-radius:6px;padding:.6rem .8rem;margin:.6rem 0}
.note{color:#555;font-size:.9rem}
ol.steps{list-style:none;padding:0;margin:0}
ol.steps li{padding:.3rem 0;border-bottom:1px solid #eceef0}
.step-head{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.1rem .6rem}
.step-name{font-weight:500;min-width:0}.ms{font-variant-numeric:tabular-nums;color:#444}
.status{font-size:.75rem;font-weight:700;padding:0 .35rem;border-radius:4px;margin-right:.3rem;
background:#e8f5e9;color:#1b5e20}
.step-failed .status{background:#ffebee;color:#b71c1c}
.step-skipped .status{background:#eceff1;color:#455a64}
.step-failed{background:#fff5f5}
.track{position:relative;height:.6rem;background:#eceef0;border-radius:3px;margin:.25rem 0}
.bar{position:absolute;top:0;height:100%;min-width:2px;background:#43a047;border-radius:3px}
.step-failed .bar{background:#d32f2f}.step-skipped .bar{display:none}
.msg{font-size:.9rem;color:#333;white-space:pre-wrap}
img{max-width:100%;height:auto;border:1px solid #ccc;border-radius:4px}
figure{margin:.5rem 0}figcaption{font-size:.85rem;color:#555}
table{width:100%;border-collapse:collapse;table-layout:fixed;font-size:.9rem}
th,td{text-align:left;vertical-align:top;padding:.25rem .4rem;border-bottom:1px solid #eceef0}
th.narrow{width:5.5rem}
code,pre{font:.85rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
white-space:pre-wrap;overflow-wrap:anywhere}
ul.plain{padding-left:1.1rem;margin:.3rem 0}
details{margin:.6rem 0;border:1px solid #e0e0e0;border-radius:6px;padding:.4rem .7rem}
summary{cursor:pointer;font-weight:600}
footer{color:#666;font-size:.8rem;text-align:center;margin:1rem 0}
"""


def render_html(results: Sequence[JourneyResult], info: RunInfo) -> str:
    """The whole report as one HTML document."""
    title = f"checkout-monitor: {_run_word(results)}" + (
        f" ({info.release})" if info.release else ""
    )
    body = "\n".join(
        [_summary(results, info), *(_journey(result, i, info) for i, result in enumerate(results))]
    )
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Nothing may load from anywhere: the report works offline and shop text cannot run.
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n"
        f"<title>{_text(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n"
        f"<footer>checkout-monitor {_text(__version__)}</footer>\n"
        "</main>\n</body>\n</html>\n"
    )


def write_html(path: Path, results: Sequence[JourneyResult], info: RunInfo) -> None:
    """Write the report whole or not at all."""
    write_text(path, info.scrubbed(render_html(results, info)))


# --- parts ---------------------------------------------------------------------------------


def _run_word(results: Sequence[JourneyResult]) -> str:
    if not all(r.ok for r in results):
        return "FAILED"
    if results and not any(r.passed for r in results):
        return "nothing checked"
    return "passed"


def _summary(results: Sequence[JourneyResult], info: RunInfo) -> str:
    failed = [r for r in results if not r.ok]
    flaky = [r for r in results if r.flaky]
    skipped = [r for r in results if r.skipped]
    passed = sum(1 for r in results if r.passed)
    if failed:
        verdict = f"{len(failed)} of {len(results)} journeys FAILED"
        state = "failed"
    elif skipped:  # never "All passed" when a journey checked nothing
        verdict = f"{passed} of {len(results)} journeys passed"
        state = "flaky" if flaky else "skipped" if not passed else "passed"
    else:
        verdict = f"All {len(results)} journeys passed"
        state = "flaky" if flaky else "passed"
    if skipped:
        they = "it" if len(skipped) == 1 else "they"
        verdict += f", {len(skipped)} skipped (nothing {they} could check here)"
    if flaky:
        verdict += f"; {len(flaky)} only on a retry (flaky)"
    rows = [
        ("Release", info.release or "not given (run-smoke --release VERSION)"),
        ("Location", info.location),
        ("When", _when(info.started_at)),
        ("Took", f"{info.wall_seconds:.1f} s"),
    ]
    items = "".join(
        f'<li><a href="#{_anchor(i)}">{_text(r.name)}</a>: {_text(_verdict(r))}</li>'
        for i, r in enumerate(results)
    )
    return (
        f'<section class="summary {state}">\n<h1>{_text(verdict)}</h1>\n'
        f"{_definitions(rows)}\n"
        f'<p class="note">{_text(info.header)}</p>\n'
        f'<ul class="plain">{items}</ul>\n</section>'
    )


def _journey(result: JourneyResult, index: int, info: RunInfo) -> str:
    state = "flaky" if result.flaky else result.status.value
    rows: list[tuple[str, str]] = [
        ("Storefront", result.storefront),
        ("Location", result.location),
        ("Owner", result.owner or "nobody named in the config"),
    ]
    parts = [
        f'<section class="journey {state}" id="{_anchor(index)}">',
        f"<h2>{_text(result.name)}</h2>",
        f'<p class="verdict">{_text(_verdict(result))}</p>',
        _definitions(rows, runbook=result.runbook, tags=result.tags),
        _advice(result),
        _blocked(result),
        "<h3>Steps</h3>",
        _waterfall(result.steps),
    ]
    if result.evidence is not None:
        parts.append(_evidence(result.evidence, result.failed_step, info))
    for earlier in result.earlier_attempts:
        parts.append(_earlier_attempt(earlier, info))
    parts.append("</section>")
    return "\n".join(part for part in parts if part)


def _verdict(result: JourneyResult) -> str:
    """The journey's outcome in the words a person would say."""
    tries = len(result.all_attempts)
    if result.flaky:
        return f"FLAKY: passed on attempt {result.attempt} ({tries - 1} failed before)"
    if result.skipped:
        count = len(result.steps)
        return (
            f"SKIPPED: nothing it could check here (all {count} step{'s' * (count != 1)} "
            "skipped); not a pass"
        )
    failed = result.failed_step
    if failed is None:
        return f"passed in {result.duration_seconds:.1f} s"
    kind = failed.failure_kind.value if failed.failure_kind else "unknown"
    verdict = f"FAILED at step \u201c{failed.name}\u201d ({kind})"
    more = len(result.failed_steps) - 1
    if more:  # soft steps: the others are named in the advice and red in the waterfall
        verdict += f", and {more} more step{'s' * (more != 1)} failed"
    if tries > 1:
        verdict += f" on all {tries} attempts"
    return verdict


def _advice(result: JourneyResult) -> str:
    kind = result.failure_kind
    if kind is None or result.ok:
        return ""
    monitor = (
        "<p><strong>This is a problem of the monitor itself, not of the shop.</strong></p>"
        if kind.failure_class is FailureClass.MONITOR
        else ""
    )
    others = "".join(
        f"<br>Also failed: \u201c{_text(step.name)}\u201d "
        f"({_text(step.failure_kind.value if step.failure_kind else 'failed')}): "
        f"{_text(step.message)}"
        for step in result.failed_steps[1:]
    )
    return (
        f'<div class="advice">{monitor}<strong>What to do:</strong> {_text(kind.advice)}'
        + (f"<br>{_text(result.failed_step.message)}" if result.failed_step else "")
        + others
        + "</div>"
    )


def _blocked(result: JourneyResult) -> str:
    note = blocked_note(result)
    return f'<p class="note">{_text(note)}</p>' if note else ""


def _waterfall(steps: Sequence[StepResult]) -> str:
    """Bars placed by when each step started (steps run one after another) and sized by
    how long it took, so the slow or failing step stands out at a glance."""
    if not steps:
        return '<p class="note">No step ran.</p>'
    total = sum(step.duration_seconds for step in steps) or 1.0
    rows = []
    start = 0.0
    for step in steps:
        left = 100 * start / total
        width = 100 * step.duration_seconds / total
        start += step.duration_seconds
        timing = (
            "" if step.status is StepStatus.SKIPPED else f"{step.duration_seconds * 1000:.0f} ms"
        )
        detail = step.message
        if step.failure_kind is not None:
            detail = f"{step.failure_kind.value}: {step.message}"
        rows.append(
            f'<li class="step-{step.status.value}">'
            f'<div class="step-head"><span class="step-name">'
            f'<span class="status">{_text(step.status.value.upper())}</span>'
            f"{_text(step.name)}</span>"
            f'<span class="ms">{timing}</span></div>'
            f'<div class="track"><div class="bar" '
            f'style="left:{left:.2f}%;width:{width:.2f}%"></div></div>'
            + (f'<div class="msg">{_text(detail)}</div>' if detail else "")
            + "</li>"
        )
    return '<ol class="steps">' + "".join(rows) + "</ol>"


def _evidence(evidence: Evidence, failed: StepResult | None, info: RunInfo) -> str:
    parts = ["<h3>What the browser saw</h3>", _screenshot(evidence, failed, info)]
    files = [
        ("Page HTML", evidence.html),
        ("Trace", evidence.trace),
        ("Evidence folder", evidence.folder),
    ]
    rows = [(label, _file(info.evidence_path(path))) for label, path in files if path]
    if rows:
        parts.append(_definitions(rows, code=True))
    if evidence.trace:
        command = f"playwright show-trace {info.evidence_path(evidence.trace)}"
        parts.append(f'<p class="note">Replay the trace: <code>{_text(command)}</code></p>')
    if evidence.failed_requests:
        body = "".join(
            f"<tr><td>{_text(r.method)}</td>"
            f"<td>{_text(str(r.status) if r.status is not None else 'no answer')}</td>"
            f"<td><code>{_text(r.url)}</code>"
            + (f"<br>{_text(r.error)}" if r.error else "")
            + "</td></tr>"
            for r in evidence.failed_requests
        )
        parts.append(
            "<h3>Failed requests</h3>"
            '<table><thead><tr><th class="narrow">Method</th><th class="narrow">Status</th>'
            f"<th>URL</th></tr></thead><tbody>{body}</tbody></table>"
        )
    parts.append(_code_list("Console errors", evidence.console_errors))
    parts.append(_code_list("Broken images", evidence.broken_images))
    parts.append(_code_list("Evidence that could not be kept", evidence.problems))
    return "\n".join(part for part in parts if part)


def _screenshot(evidence: Evidence, failed: StepResult | None, info: RunInfo) -> str:
    if evidence.screenshot is None:
        return '<p class="note">No screenshot was kept for this attempt.</p>'
    path = info.evidence_path(evidence.screenshot)
    where = f"<code>{_text(str(path))}</code>"
    try:
        size = path.stat().st_size
        data = path.read_bytes() if size <= _MAX_INLINE_BYTES else None
    except OSError:
        return f'<p class="note">The screenshot is missing: nothing at {where}.</p>'
    if data is None:
        return f'<p class="note">The screenshot is too large to include; open {where}.</p>'
    mime = _IMAGE_TYPES.get(path.suffix.lower(), "image/png")
    encoded = base64.b64encode(data).decode("ascii")
    alt = f"The page when step \u201c{failed.name}\u201d failed" if failed else "The page"
    return (
        f'<figure><img src="data:{mime};base64,{encoded}" alt="{_text(alt)}">'
        f"<figcaption>{_text(alt)}. {where}</figcaption></figure>"
    )


def _earlier_attempt(attempt: JourneyResult, info: RunInfo) -> str:
    failed = attempt.failed_step
    what = "passed"
    if failed is not None:
        kind = failed.failure_kind.value if failed.failure_kind else "unknown"
        what = f"FAILED at step \u201c{failed.name}\u201d ({kind})"
    parts = [
        f"<details><summary>Attempt {attempt.attempt}: {_text(what)}</summary>",
        f'<p class="note">Started {_text(_when(attempt.started_at))}, '
        f"took {attempt.duration_seconds:.1f} s.</p>",
        _waterfall(attempt.steps),
    ]
    if attempt.evidence is not None:
        parts.append(_evidence(attempt.evidence, failed, info))
    parts.append("</details>")
    return "\n".join(parts)


# --- small pieces --------------------------------------------------------------------------


def _definitions(
    rows: Sequence[tuple[str, str]],
    runbook: str | None = None,
    tags: Sequence[str] = (),
    code: bool = False,
) -> str:
    wrap = "<code>{}</code>" if code else "{}"
    items = [
        f"<dt>{_text(label)}</dt><dd>{wrap.format(_text(value))}</dd>" for label, value in rows
    ]
    if runbook:
        items.append(f"<dt>Runbook</dt><dd>{runbook_html(runbook)}</dd>")
    if tags:
        items.append(f"<dt>Tags</dt><dd>{_text(', '.join(tags))}</dd>")
    return "<dl>" + "".join(items) + "</dl>"


def _file(path: Path) -> str:
    return str(path) if path.exists() else f"{path} (not found)"


def _code_list(title: str, lines: Sequence[str]) -> str:
    if not lines:
        return ""
    items = "".join(f"<li><code>{_text(line)}</code></li>" for line in lines)
    return f'<h3>{_text(title)}</h3><ul class="plain">{items}</ul>'


def _when(moment: datetime) -> str:
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _anchor(index: int) -> str:
    return f"journey-{index + 1}"


def _text(value: str) -> str:
    """Shop text as inert HTML text: escaped, quotes included, control characters gone."""
    return escape(_CONTROL.sub("", value), quote=True)
