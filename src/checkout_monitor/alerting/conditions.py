"""Measure a rule's condition over a journey's recent runs: the value, and which side it is on.

A rule fires above its threshold and resolves only below ``resolve_below`` (hysteresis); in
between, an alert keeps whatever state it is in. Too few runs to judge is its own answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from checkout_monitor.alerting.run_history import RunRecord
from checkout_monitor.config.alerting import WINDOWED, AlertRule, ConditionKind
from checkout_monitor.text.durations import format_duration


@dataclass(frozen=True)
class Measurement:
    value: float | None  # None: not enough runs to judge either way
    breached: bool
    recovered: bool
    text: str  # for people: "3 of the last 5 runs failed"
    # nothing could be looked at (the run history not read yet, or unreadable): unlike too
    # few runs, which is an answer, it leaves an alert as it is, a pending one too
    unknown: bool = False


def measure(
    rule: AlertRule, runs: Sequence[RunRecord], now: float, *, others_pass: bool = False
) -> Measurement:
    """``others_pass``: failures of classes the rule does not count still show the runs
    worked (the monitor-health rule); by default they are left out, as saying nothing.
    Skipped runs (every step skipped) checked nothing: every rule leaves them out."""
    classes = {c.value for c in rule.classes}
    counted = [
        (run, _failed(run, classes))
        for run in runs
        if not run.skipped and (run.ok or run.failure_class in classes or others_pass)
    ]
    kind = rule.condition
    if kind is ConditionKind.FAILURE_RATE:
        window = _in_window(counted, rule, now)
        if len(window) < rule.min_runs:
            return _too_few(len(window), rule)
        failures = sum(failed for _run, failed in window)
        rate = failures / len(window)
        return _judge(
            rule,
            rate,
            breached=rate > rule.threshold,
            text=f"{failures} of {len(window)} runs in the last "
            f"{format_duration(rule.window or 0)} failed ({rate:.0%})",
        )
    if kind is ConditionKind.FAILURES_OF_LAST:
        last = counted[-(rule.of_last or 1) :]
        if not last:
            return _too_few(0, rule)
        failures = sum(failed for _run, failed in last)
        return _judge(
            rule,
            failures,
            breached=failures >= rule.threshold,
            text=f"{failures} of the last {len(last)} runs failed",
        )
    if kind is ConditionKind.CONSECUTIVE:
        if not counted:
            return _too_few(0, rule)
        streak = 0
        for _run, failed in reversed(counted):
            if not failed:
                break
            streak += 1
        return _judge(
            rule,
            streak,
            breached=streak >= rule.threshold,
            text=f"{streak} run{'s' * (streak != 1)} in a row failed"
            if streak
            else "the last run passed",
        )
    if kind is ConditionKind.WEEK_OVER_WEEK:  # needs a week: read from the run history
        raise ValueError("week_over_week_drop_above is measured by alerting/week_over_week.py")
    return _latency(rule, [run for run, _failed in counted], now)


def _failed(run: RunRecord, classes: set[str]) -> bool:
    return not run.ok and run.failure_class in classes


def _in_window(
    counted: list[tuple[RunRecord, bool]], rule: AlertRule, now: float
) -> list[tuple[RunRecord, bool]]:
    start = now - (rule.window or 0)
    return [(run, failed) for run, failed in counted if run.finished_at >= start]


def _latency(rule: AlertRule, runs: list[RunRecord], now: float) -> Measurement:
    start = now - (rule.window or 0)
    if rule.step is None:
        durations = [run.duration for run in runs if run.finished_at >= start]
        what = "the journey"
    else:
        durations = [
            run.step_durations[rule.step]
            for run in runs
            if run.finished_at >= start and rule.step in run.step_durations
        ]
        what = f"step {rule.step!r}"
    if len(durations) < rule.min_runs:
        return _too_few(len(durations), rule)
    p95 = percentile(durations, 0.95)
    return _judge(
        rule,
        p95,
        breached=p95 > rule.threshold,
        text=f"p95 of {what} was {format_duration(p95)} over {len(durations)} runs in the last "
        f"{format_duration(rule.window or 0)} (limit {format_duration(rule.threshold)})",
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: always one of the observed values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _judge(rule: AlertRule, value: float, *, breached: bool, text: str) -> Measurement:
    """Without ``resolve_below``, an alert resolves as soon as the condition stops holding."""
    recovered = value < rule.resolve_below if rule.resolve_below is not None else not breached
    return Measurement(value, breached, recovered, text)


def _too_few(count: int, rule: AlertRule) -> Measurement:
    need = rule.min_runs if rule.condition in WINDOWED else 1
    return Measurement(
        None, False, False, f"only {count} run{'s' * (count != 1)} to judge (needs {need})"
    )
