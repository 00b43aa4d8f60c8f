"""`run-smoke --triage`: the incident checklist any on-call person can finish in 15 minutes.

Five questions a shop's incident playbook asks first, each answered from the run's own
results (which journey and which checked step answer it), with its owner and runbook, as
plain text for the terminal and as Markdown to paste into the incident channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.reports.atomic_files import write_text
from checkout_monitor.reports.reporter import Reporter
from checkout_monitor.reports.run_info import RunInfo
from checkout_monitor.results import JourneyResult, StepResult, StepStatus
from checkout_monitor.text.quoting import first_line


@dataclass(frozen=True)
class ChecklistItem:
    title: str
    question: str
    journey: str  # the journey (as defined in monitors/) that answers it
    check: str | None = None  # and the step check within it; None: the whole journey
    kinds: tuple[FailureKind, ...] = ()  # failures anywhere that answer it too: "no"


CHECKLIST = (
    ChecklistItem(
        "Cart funnel smoke test",
        "Can a shopper go from a product page through the cart to a placed order?",
        "product-to-checkout",
    ),
    ChecklistItem(
        "Checkout token",
        "Does checkout refuse a stale session token and keep a fresh one?",
        "product-to-checkout",
        "checkout_token",
        (FailureKind.CHECKOUT_TOKEN_INVALID,),
    ),
    ChecklistItem(
        "Discount engine",
        "Do the discount codes take off the right amount, and are bad codes refused?",
        "discount-codes",
    ),
    ChecklistItem(
        "Payment provider health",
        "Does the payment provider answer, quickly enough?",
        "payment-sandbox",
        "payment_health",
        (FailureKind.PAYMENT_PROVIDER_DOWN,),
    ),
    ChecklistItem(
        "Product page media integrity",
        "Do the product images load, decode and look like themselves?",
        "product-images",
    ),
)


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    FLAKY = "FLAKY"
    NOT_CHECKED = "NOT CHECKED"


@dataclass(frozen=True)
class ChecklistLine:
    item: ChecklistItem
    verdict: Verdict
    detail: str
    owner: str | None
    runbook: str | None


def checklist(results: Sequence[JourneyResult]) -> list[ChecklistLine]:
    return [_answer(item, results) for item in CHECKLIST]


def _answer(item: ChecklistItem, results: Sequence[JourneyResult]) -> ChecklistLine:
    runs = [r for r in results if r.journey == item.journey]
    if not runs:
        return ChecklistLine(
            item, Verdict.NOT_CHECKED, f"no {item.journey!r} journey is configured", None, None
        )
    result = next((r for r in runs if not r.ok), runs[0])
    owner, runbook = result.owner, result.runbook
    if item.check is None:
        return ChecklistLine(item, *_journey_verdict(result), owner, runbook)
    steps = [s for s in result.steps if s.check == item.check]
    failed = next((s for s in steps if not s.ok), None)
    failed = failed or next(
        (s for r in results for s in r.steps if not s.ok and s.failure_kind in item.kinds), None
    )
    if failed is not None:
        return ChecklistLine(item, Verdict.FAIL, _said(failed), owner, runbook)
    if steps:
        verdict = Verdict.FLAKY if result.flaky else Verdict.PASS
        return ChecklistLine(item, verdict, f"{len(steps)} check(s) passed", owner, runbook)
    stop = result.failed_step
    if stop:
        detail = f"not reached: the journey failed earlier, at {stop.name!r}"
    elif result.skipped:
        detail = _skipped(result)
    else:
        detail = "the journey has no such check"
    return ChecklistLine(item, Verdict.NOT_CHECKED, detail, owner, runbook)


def _journey_verdict(result: JourneyResult) -> tuple[Verdict, str]:
    failed = result.failed_step
    if failed is not None:
        return Verdict.FAIL, _said(failed)
    if result.skipped:  # checked nothing: never a PASS
        return Verdict.NOT_CHECKED, _skipped(result)
    if result.flaky:
        return Verdict.FLAKY, f"passed on attempt {result.attempt}; an earlier attempt failed"
    passed = sum(1 for step in result.steps if step.status is StepStatus.PASSED)
    skipped = len(result.steps) - passed
    return Verdict.PASS, f"{passed} steps passed" + (f", {skipped} skipped" if skipped else "")


def _skipped(result: JourneyResult) -> str:
    why = "; ".join(f"{s.name!r}: {first_line(s.message)}" for s in result.steps)
    return f"skipped, nothing it could check here ({why})"


def _said(step: StepResult) -> str:
    kind = step.failure_kind.value if step.failure_kind else "failed"
    return f"{step.name!r} failed ({kind}): {first_line(step.message)}"


def render_text(lines: Sequence[ChecklistLine]) -> str:
    out = ["", "INCIDENT CHECKLIST (each line is done when it passes or its owner is told)"]
    for number, line in enumerate(lines, 1):
        out.append(f"{number}. [{line.verdict.value}] {line.item.title}: {line.detail}")
        who = [f"owner: {line.owner}" if line.owner else "", line.runbook or ""]
        if any(who):
            out.append("   " + " | ".join(w for w in who if w))
    return "\n".join(out)


def render_markdown(lines: Sequence[ChecklistLine], info: RunInfo) -> str:
    release = f", release {info.release}" if info.release else ""
    out = [
        f"## Checkout incident checklist: {info.started_at:%Y-%m-%d %H:%M UTC}",
        "",
        f"Location {info.location}{release}. Each line is done when it passes, or when its "
        "owner has been told.",
        "",
    ]
    for line in lines:
        box = "x" if line.verdict is Verdict.PASS else " "
        out.append(f"- [{box}] **{line.item.title}**: {line.verdict.value}: {_md(line.detail)}")
        out.append(f"  - {line.item.question}")
        if line.owner:
            out.append(f"  - Owner: {_md(line.owner)}")
        if line.runbook:
            out.append(f"  - Runbook: {line.runbook}")
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    """Shop text stays text in Markdown: no links, emphasis or tables from it."""
    for char in "\\`*_[]<>|":
        text = text.replace(char, f"\\{char}")
    return text


def write_checklist(
    results: Sequence[JourneyResult], info: RunInfo, reporter: Reporter
) -> list[str]:
    """Print the checklist and keep it as Markdown beside the evidence; a problem, if any."""
    lines = checklist(results)
    reporter.note(render_text(lines))
    stamp = f"{info.started_at:%Y%m%dT%H%M%S%fZ}"
    path = (info.artifacts_dir or Path.cwd()) / f"triage-{stamp}.md"
    try:
        write_text(path, info.scrubbed(render_markdown(lines, info)))
    except OSError as exc:
        return [f"could not write the triage checklist to {path}: {exc}"]
    reporter.note(f"\nChecklist as Markdown, to paste into the incident channel: {path}")
    return []
