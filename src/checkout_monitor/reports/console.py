"""What a person sees in the terminal: one line per step, a verdict per journey, a summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from checkout_monitor.durations import format_duration
from checkout_monitor.results import JourneyResult, StepResult, StepStatus

_MARK = {StepStatus.PASSED: "PASS", StepStatus.FAILED: "FAIL", StepStatus.SKIPPED: "SKIP"}
_NAME_WIDTH = 40


class ConsoleReporter:
    def __init__(self, stream: TextIO) -> None:
        self._out = stream

    def run_started(self, header: str) -> None:
        self._print(header)

    def journey_started(self, name: str, storefront: str) -> None:
        self._print(f"\n{name}  (storefront {storefront})")

    def step_finished(self, step: StepResult) -> None:
        mark = _MARK[step.status]
        timing = (
            f"{step.duration_seconds * 1000:>6.0f} ms"
            if step.status is not StepStatus.SKIPPED
            else " " * 9
        )
        line = f"  {mark}  {step.name:<{_NAME_WIDTH}} {timing}"
        if step.failure_kind is not None:
            line += f"  {step.failure_kind.value}: {step.message}"
        elif step.message:
            line += f"  {step.message}"
        self._print(line)

    def journey_finished(self, result: JourneyResult) -> None:
        failed = result.failed_step
        took = format_duration(result.duration_seconds)
        if failed is None or failed.failure_kind is None:
            self._print(f"  => passed in {took}")
            return
        kind = failed.failure_kind
        self._print(f"  => FAILED at step {failed.name!r} ({kind.value}) after {took}")
        if kind.failure_class.value == "monitor":
            self._print("     This is a problem of the monitor itself, not of the shop.")
        self._print(f"     What to do: {kind.advice}")
        contact = [
            f"Owner: {result.owner}" if result.owner else "",
            f"Runbook: {result.runbook}" if result.runbook else "",
        ]
        if any(contact):
            self._print("     " + " | ".join(c for c in contact if c))

    def run_finished(self, results: Sequence[JourneyResult], wall_seconds: float) -> None:
        passed = sum(1 for r in results if r.ok)
        failed = [r for r in results if not r.ok]
        verdict = "ALL PASSED" if not failed else "FAILED"
        line = f"\n{verdict}: {passed} of {len(results)} journeys passed"
        if failed:
            details = ", ".join(
                f"{r.name} at {r.failed_step.name!r} ({r.failure_kind})"
                for r in failed
                if r.failed_step is not None
            )
            line += f"; failed: {details}"
        self._print(f"{line}. Total wall time {format_duration(wall_seconds)}.")

    def _print(self, text: str) -> None:
        print(text, file=self._out, flush=True)
