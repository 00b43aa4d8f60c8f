"""What a person sees in the terminal: one line per step, a verdict per journey, a summary.

Written for someone on call at 3 a.m.: what broke in plain words, who owns it, what to do,
when it last worked and where the picture is. Colour and a live progress line only on a
terminal (rich honours ``NO_COLOR``); plain lines in pipes and CI logs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.status import Status

from checkout_monitor.reports.blocked_requests import blocked_note
from checkout_monitor.results import JourneyResult, StepResult, StepStatus
from checkout_monitor.text.durations import format_duration

_MARK = {
    StepStatus.PASSED: "[green]PASS[/]",
    StepStatus.FAILED: "[bold red]FAIL[/]",
    StepStatus.SKIPPED: "[dim]SKIP[/]",
}
_NAME_WIDTH = 40


# Said of a journey whose every step was skipped: it checked nothing, so it never passed.
NOTHING_CHECKED = "nothing it could check here"


class Verbosity(IntEnum):
    QUIET = 0  # verdicts of failed, flaky and skipped journeys, and the summary
    NORMAL = 1  # every step
    VERBOSE = 2  # and the log (set up by the CLI)


class ConsoleReporter:
    def __init__(
        self,
        stream: TextIO,
        *,
        verbosity: Verbosity = Verbosity.NORMAL,
        last_passed: dict[str, datetime] | None = None,
        scrub: Callable[[str], str] = str,
        artifacts_root: Path | None = None,
    ) -> None:
        """``scrub`` takes secrets and card numbers out of the shop's text; evidence paths
        are shown under ``artifacts_root``, so they open from wherever this was run."""
        plain = bool(os.environ.get("NO_COLOR"))  # no colour, and no bold or dim either
        self._console = Console(
            file=stream,
            soft_wrap=True,
            highlight=False,
            emoji=False,
            color_system=None if plain else "auto",
        )
        self._verbosity = verbosity
        self._last_passed = last_passed or {}
        self._status: Status | None = None
        self._scrub = scrub
        self._artifacts_root = artifacts_root
        self._current = ""  # the journey running now, named before a retry in quiet mode

    @property
    def _steps_shown(self) -> bool:
        return self._verbosity >= Verbosity.NORMAL

    def run_started(self, header: str) -> None:
        if self._steps_shown:  # (the demo's header names its throwaway admin token on purpose)
            self._print(header, markup=False, scrub=False)

    def journey_started(self, name: str, storefront: str) -> None:
        self._current = name
        if self._steps_shown:
            self._print(f"\n[bold]{_escape(name)}[/]  (storefront {_escape(storefront)})")
        if self._console.is_terminal:
            self._status = self._console.status(f"{name}: starting", spinner="dots")
            self._status.start()

    def step_finished(self, step: StepResult) -> None:
        if self._status is not None:
            self._status.update(f"{step.name}: done, next step running")
        if not self._steps_shown:
            return
        timing = (
            f"{step.duration_seconds * 1000:>6.0f} ms"
            if step.status is not StepStatus.SKIPPED
            else " " * 9
        )
        line = f"  {_MARK[step.status]}  {_escape(step.name):<{_NAME_WIDTH}} {timing}"
        if step.failure_kind is not None:
            line += f"  {step.failure_kind.value}: {_escape(step.message)}"
        elif step.message:
            line += f"  {_escape(step.message)}"
        self._print(line)

    def attempt_failed(self, result: JourneyResult) -> None:
        """A failed attempt that will be retried: said, never hidden."""
        failed = result.failed_step
        where = f"at step {failed.name!r} ({result.failure_kind})" if failed else ""
        journey = "" if self._steps_shown else f"{self._current}: "
        self._print(
            f"  [yellow]{_escape(journey)}attempt {result.attempt} failed {_escape(where)}; "
            "trying again[/]"
        )

    def journey_finished(self, result: JourneyResult) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        took = format_duration(result.duration_seconds)
        if result.passed and not result.flaky:
            if self._steps_shown:
                self._print(f"  => [green]passed[/] in {took}")
                self._blocked(result)
            return
        if not self._steps_shown:
            self._print(f"\n[bold]{_escape(result.name)}[/]")
        if result.skipped:
            self._skipped(result)
            self._blocked(result)
            return
        if result.flaky:
            self._flaky(result, took)
        else:
            self._failed(result, took)
        self._blocked(result)
        self._contact(result)

    def _skipped(self, result: JourneyResult) -> None:
        """Every step skipped: visible (even in quiet mode), never a pass, never a failure."""
        count = len(result.steps)
        self._print(
            f"  => [bold yellow]SKIPPED[/]: {NOTHING_CHECKED} "
            f"(all {count} step{'s' * (count != 1)} skipped); not a pass, and not a failure"
        )
        if not self._steps_shown:  # else each SKIP line above already says why
            for step in result.steps:
                self._print(f"     Skipped {_escape(repr(step.name))}: {_escape(step.message)}")
        self._print(
            "     What to do: nothing, if this storefront really lacks what the journey "
            "checks; otherwise add the missing settings named above to its storefront profile."
        )
        for earlier in result.earlier_attempts:  # a failure before the skip is not hidden
            failed = earlier.failed_step
            if failed is not None and failed.failure_kind is not None:
                self._print(
                    f"     attempt {earlier.attempt} failed at step {_escape(repr(failed.name))} "
                    f"({failed.failure_kind.value}): {_escape(failed.message)}"
                )

    def _blocked(self, result: JourneyResult) -> None:
        """A warning, never a failure: a page pulling in a host nobody listed."""
        note = blocked_note(result)
        if note:
            self._print(f"     [yellow]{_escape(note)}[/]")

    def _flaky(self, result: JourneyResult, took: str) -> None:
        self._print(f"  => [yellow]FLAKY[/]: passed on attempt {result.attempt} in {took}")
        for earlier in result.earlier_attempts:
            failed = earlier.failed_step
            if failed is not None and failed.failure_kind is not None:
                self._print(
                    f"     attempt {earlier.attempt} failed at step {_escape(repr(failed.name))} "
                    f"({failed.failure_kind.value}): {_escape(failed.message)}"
                )
        self._print("     It works now, but not every time: look before it gets worse.")
        self._evidence(result.earlier_attempts[-1])

    def _failed(self, result: JourneyResult, took: str) -> None:
        failed = result.failed_step
        if failed is None or failed.failure_kind is None:
            return
        kind = failed.failure_kind
        tries = f" (all {result.attempt} attempts)" if result.attempt > 1 else ""
        more = len(result.failed_steps) - 1
        also = f", and {more} more step{'s' * (more != 1)} failed" if more else ""
        self._print(
            f"  => [bold red]FAILED[/] at step {_escape(repr(failed.name))} ({kind.value}) "
            f"after {took}{tries}{also}"
        )
        if failed.message:
            self._print(f"     What happened: {_escape(failed.message)}")
        # soft steps: every failed step is listed, so quiet mode names every broken page too
        for other in result.failed_steps[1:]:
            other_kind = other.failure_kind.value if other.failure_kind else "failed"
            self._print(
                f"     Also failed: {_escape(repr(other.name))} ({other_kind}): "
                f"{_escape(other.message)}"
            )
        if kind.failure_class.value == "monitor":
            self._print("     This is a problem of the monitor itself, not of the shop.")
        self._print(f"     What to do: {_escape(kind.advice)}")
        advised = {kind}
        for other in result.failed_steps[1:]:
            if other.failure_kind is not None and other.failure_kind not in advised:
                advised.add(other.failure_kind)
                self._print(
                    f"     What to do ({other.failure_kind.value}): "
                    f"{_escape(other.failure_kind.advice)}"
                )
        self._evidence(result)

    def _contact(self, result: JourneyResult) -> None:
        contact = [
            f"Owner: {result.owner}"
            if result.owner
            else "Owner: not set (add owner: to the journey)",
            f"Runbook: {result.runbook}" if result.runbook else "",
        ]
        self._print("     " + _escape(" | ".join(c for c in contact if c)))
        passed = self._last_passed.get(result.name)
        when = f"{passed:%Y-%m-%d %H:%M UTC}" if passed else "not known (no pass recorded here)"
        self._print(f"     Last passed here: {when}")

    def _evidence(self, result: JourneyResult) -> None:
        evidence = result.evidence
        if evidence is None:
            return
        for label, path in (("Screenshot", evidence.screenshot), ("Trace", evidence.trace)):
            if path:
                shown = self._artifacts_root / path if self._artifacts_root else Path(path)
                self._print(f"     {label}: {_escape(str(shown))}", scrub=False)
        for problem in evidence.problems:
            self._print(f"     (evidence not kept: {_escape(problem)})")

    def run_finished(self, results: Sequence[JourneyResult], wall_seconds: float) -> None:
        passed = sum(1 for r in results if r.passed)
        failed = [r for r in results if not r.ok]
        skipped = [r.name for r in results if r.skipped]
        flaky = [r.name for r in results if r.flaky]
        line = f"\n{_run_verdict(passed, len(failed), len(skipped))}: {passed} of "
        line += f"{len(results)} journeys passed"
        if skipped:  # never "ALL PASSED" when a journey checked nothing
            they = "it" if len(skipped) == 1 else "they"
            line += (
                f", {len(skipped)} skipped (nothing {they} could check here): "
                f"{_escape(', '.join(skipped))}"
            )
        if failed:
            details = ", ".join(_at(r) for r in failed if r.failed_step is not None)
            line += f"; failed: {_escape(details)}"
        if flaky:
            line += f"; flaky (passed on a retry): {_escape(', '.join(flaky))}"
        blocked = [f"{r.name} ({r.blocked_count})" for r in results if r.blocked_requests]
        if blocked:  # said even in quiet mode, where a passing journey shows no lines
            line += f"; requests to hosts not allowed, blocked: {_escape(', '.join(blocked))}"
        self._print(f"{line}. Total wall time {format_duration(wall_seconds)}.")

    def note(self, text: str) -> None:
        """A line after the summary, e.g. where the reports are."""
        self._print(text, markup=False)

    def _print(self, text: str, *, markup: bool = True, scrub: bool = True) -> None:
        self._console.print(self._scrub(text) if scrub else text, markup=markup)


def _run_verdict(passed: int, failed: int, skipped: int) -> str:
    """The summary's first word: ALL PASSED only when every journey checked and passed."""
    if failed:
        return "[bold red]FAILED[/]"
    if skipped and not passed:
        return "[bold yellow]NOTHING CHECKED[/]"
    if skipped:
        return "[bold green]PASSED[/]"
    return "[bold green]ALL PASSED[/]"


def _at(result: JourneyResult) -> str:
    """Where a failed attempt failed: its first failed step, and how many more there were."""
    failed = result.failed_steps
    if not failed:
        return ""
    first = failed[0]
    more = f" and {len(failed) - 1} more step{'s' * (len(failed) > 2)}" if len(failed) > 1 else ""
    return f"{result.name} at {first.name!r} ({result.failure_kind}){more}"


def _escape(text: str) -> str:
    """Shop text is never rich markup: '[' would be read as a style."""
    return text.replace("[", r"\[")
