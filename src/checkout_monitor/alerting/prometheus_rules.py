"""``checkout-monitor rules``: the config's alert rules as Prometheus alerting rules.

For teams that alert from Prometheus (several agents, one Alertmanager, no writable state
folder): the rules the agent evaluates, written once in the config, as close to the agent's
semantics (``alerting/conditions.py``) as the exported series allow:

- The alertname is the rule's name as the config gives it, as in the agent's notifications.
  The rules only Prometheus evaluates (``alerting.prometheus``) are CamelCase, which a
  config name cannot be, so the two never collide.
- A rule covers the enabled journeys whose display name matches one of its globs. It is
  written as one Prometheus rule per journey, as the agent keeps one alert per (rule,
  journey): each has its journey's own ``owner``/``runbook_url`` annotations, ``storefront``
  label and interval, and a ``journey`` label, without which promtool rejects rules sharing
  an alertname as duplicates.
- Counts over a window are exact counter differences (``x - x offset W >= 0 or x``): a
  series new in the window counts from 0, and after an agent restart (a lower counter) from
  the restart. ``increase()`` would extrapolate, and never counts a new series' first
  sample: the first failure of a kind.
- A failure rate is the rule's failure classes over the runs that count: passes and those
  failures. Runs that failed for another reason are left out, as the agent leaves them out.
- Skipped runs (every step skipped: nothing checked) count nowhere, as in the agent: they
  are ``checkout_journey_runs_total{result="skipped"}``, which no rule reads as a pass; they
  leave the success gauge, the consecutive-failures gauge and the duration histogram alone.
  Only "F of the last T" cannot tell: a skipped run fills one of the T intervals it reads.
- "F of the last T runs" counts failures over T times the journey's configured interval:
  about T runs, give or take one for jitter and scrape timing.
- Consecutive failures read ``checkout_journey_consecutive_failures``: site failures in a
  row, which a monitor failure neither adds to nor resets (the agent's default classes).
- N of M locations (``CheckoutJourneyFailingInLocations``) counts the locations where that
  gauge is above 0: the shop's side failed the last checked run there.
- p95 is ``histogram_quantile`` over the runs in the window: interpolated between bucket
  bounds where the agent takes the nearest observed value, and over all runs where the agent
  leaves out runs failed for another class.
- Week over week (``week_over_week_drop_above``) compares the window with the same window
  ``offset 1w``: the success rate's relative drop, counted as a failure rate is, or with
  ``step`` the relative rise of that step's ``histogram_quantile`` p95; both windows need
  ``min_runs`` runs. The agent reads the same from its run history.
- A firing alert stays firing while the value is at or above ``resolve_below``, and, as in
  the agent, while too few runs (``min_runs``) are in the window to judge; this reads the
  alert's own ``ALERTS{alertstate="firing"}`` series.
- The rules are written whatever ``alerting.enabled`` says: that switch is the agent's own
  evaluation and delivery, and switching it off is how Prometheus is made the only one.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from checkout_monitor import __version__
from checkout_monitor.config.alerting import (
    MONITOR_HEALTH_RULE,
    AlertRule,
    ConditionKind,
    MonitorHealthRule,
    PrometheusRulesConfig,
)
from checkout_monitor.config.model import JourneyConfig, LoadedConfig
from checkout_monitor.evidence.redaction import redact
from checkout_monitor.failure_kinds import FailureClass
from checkout_monitor.text.durations import format_duration

BY = "journey, location"
# How long the dead man's switch still sees a journey's last run after its series went
# stale (the agent is gone): it reports it that long, then CheckoutJourneyMissing does.
STALE_LOOKBACK = 86400.0
WEEK = 7 * 86400.0
# Labels the series or the rule set; as in the agent, a rule's own `labels` do not override them.
FIXED_LABELS = frozenset(
    {"alertname", "alertstate", "journey", "location", "step", "le", "severity", "storefront"}
)
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WHERE = "{{ $labels.journey }} at {{ $labels.location }}"
_CHECKED_RESULTS = 'result=~"success|failure"'  # not "skipped"

Rule = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """One journey as a rule about it needs it."""

    journey: str
    owner: str | None
    runbook: str | None
    storefront: str
    interval: float  # the configured one: "F of the last T" and the absent rule need it


@dataclass(frozen=True)
class Condition:
    """A rule's PromQL: its value, when it fires, and what keeps a firing alert firing."""

    fire: str
    stay: str | None  # None: it stays firing exactly while ``fire`` holds
    by: str  # the labels an alert has from its series


def render_rules(loaded: LoadedConfig) -> str:
    """The YAML rule file for ``loaded``; deterministic, so a rerun changes nothing."""
    alerting = loaded.config.alerting
    journeys = [entry for entry in loaded.config.journeys if entry.enabled]
    targets = {journey.display_name: _target(loaded, journey) for journey in journeys}
    rules: list[Rule] = []
    notes: list[str] = []
    if not alerting.enabled:
        notes.append(
            "alerting.enabled is false: the agent sends no alerts itself, only these rules do."
        )
    for rule in alerting.rules:
        matched = [name for name in targets if _matches(name, rule.journeys)]
        if not matched:
            notes.append(f"Rule {rule.name} is left out: it matches no enabled journey.")
            continue
        if rule.condition is ConditionKind.CONSECUTIVE and rule.classes != [FailureClass.SITE]:
            notes.append(
                f"Rule {rule.name} counts site failures in a row only: the exported gauge "
                f"cannot count classes {', '.join(rule.classes)}."
            )
        labels = {key: redact(value, loaded.secrets) for key, value in rule.labels.items()}
        rules += [_config_rule(rule, targets[name], labels) for name in matched]
    health = alerting.monitor_unhealthy
    if health.enabled:
        rule = _health_rule(health)
        rules += [_config_rule(rule, target, {}) for target in targets.values()]
    if targets:
        rules += _prometheus_only(alerting.prometheus, list(targets.values()))
    return _document(loaded, rules, notes)


# --- the config's rules ----------------------------------------------------------------------


def _matches(journey: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(journey, pattern) for pattern in patterns)


def _target(loaded: LoadedConfig, journey: JourneyConfig) -> Target:
    """Free text from the config is redacted here; names are not secrets (metrics carry them)."""

    def text(value: str | None) -> str | None:
        return None if value is None else redact(value, loaded.secrets)

    return Target(
        journey.display_name,
        text(journey.owner),
        text(journey.runbook),
        journey.storefront,
        loaded.interval(journey),
    )


def _health_rule(health: MonitorHealthRule) -> AlertRule:
    """``monitor_unhealthy`` as the agent evaluates it: F of the last T, monitor failures."""
    return AlertRule.model_validate(
        {
            "name": MONITOR_HEALTH_RULE,
            "failures": health.failures,
            "of_last": health.of_last,
            "severity": health.severity,
            "classes": [FailureClass.MONITOR],
        }
    )


def _config_rule(rule: AlertRule, target: Target, rule_labels: dict[str, str]) -> Rule:
    """The alert the agent would raise for (rule, journey), labelled and annotated alike."""
    condition = _condition(rule, target)
    expr = condition.fire
    if condition.stay is not None:
        firing = f'ALERTS{{alertname={_quote(rule.name)}, alertstate="firing"}}'
        expr = (
            f"(\n{_indent(condition.fire)}\n)\nor\n"
            f"(\n{_indent(condition.stay)}\n  and on ({condition.by})\n  {firing}\n)"
        )
    labels = {
        **{key: value for key, value in rule_labels.items() if key not in FIXED_LABELS},
        "severity": rule.severity.value,
        "journey": target.journey,
        "storefront": target.storefront,
    }
    labels.setdefault("class", _alert_class(rule))
    annotations = {"summary": _summary(rule), "description": _description(rule, target)}
    return _owned(_alert(rule.name, expr, rule.for_, labels, annotations), target)


def _condition(rule: AlertRule, target: Target) -> Condition:
    journey = target.journey
    kind = rule.condition
    if kind is ConditionKind.FAILURE_RATE:
        assert rule.window is not None  # the config model requires a window
        counted = _counted_runs(journey, rule.classes, rule.window)
        failures = _sum(_count(_failures(journey, rule.classes), rule.window))
        rate = f"(\n{_indent(failures)}\n  /\n{_indent(counted)}\n)"
        return _judged(rule, rate, f"{counted} >= {rule.min_runs}", BY)
    if kind is ConditionKind.LATENCY:
        assert rule.window is not None
        if rule.step is None:
            metric, by, extra = "checkout_journey_duration_seconds", BY, []
        else:
            metric, by = "checkout_step_duration_seconds", "journey, step, location"
            extra = [f"step={_quote(rule.step)}"]
        buckets = _count(_selector(f"{metric}_bucket", journey, extra=extra), rule.window)
        p95 = f"histogram_quantile(\n  0.95,\n  sum by ({by}, le) (\n{_indent(buckets, 4)}\n  )\n)"
        runs = _sum(_count(_selector(f"{metric}_count", journey, extra=extra), rule.window), by)
        return _judged(rule, p95, f"{runs} >= {rule.min_runs}", by)
    if kind is ConditionKind.WEEK_OVER_WEEK:
        return _week_over_week_condition(rule, journey)
    if kind is ConditionKind.FAILURES_OF_LAST:
        assert rule.of_last is not None
        value = _sum(_count(_failures(journey, rule.classes), rule.of_last * target.interval))
    else:
        gauge = _selector("checkout_journey_consecutive_failures", journey)
        value = f"max by ({BY}) ({gauge})"
    fire = f"{value} >= {_number(rule.threshold)}"
    if rule.resolve_below is None:
        return Condition(fire, None, BY)
    return Condition(fire, f"{value} >= {_number(rule.resolve_below)}", BY)


def _judged(
    rule: AlertRule, value: str, enough: str, by: str, last_week: str | None = None
) -> Condition:
    """A condition judged only where ``enough`` holds (``min_runs`` runs in its window). With
    fewer, the agent cannot judge and leaves an alert as it is: a firing one stays firing.

    ``last_week``: the value a week-over-week change is relative to. At 0 the agent sees no
    change (nothing to fall or rise from) where PromQL divides by 0 (NaN, +Inf): it never
    fires then, and it recovers."""
    threshold = _number(rule.threshold)
    fire = f"(\n{_indent(value)}\n  and\n{_indent(enough)}\n) > {threshold}"
    if last_week is not None:
        fire = f"(\n{_indent(fire)}\n)\nand\n(\n{_indent(last_week)}\n) > 0"
    if rule.resolve_below is None:
        recovered = f"{value} <= {threshold}"  # the fire condition no longer holds
    else:
        recovered = f"{value} < {_number(rule.resolve_below)}"
    if last_week is not None:
        recovered = f"(\n{_indent(recovered)}\n)\nor\n(\n{_indent(last_week)}\n) == 0"
    judged_recovered = f"(\n{_indent(recovered)}\n  and\n{_indent(enough)}\n)"
    stay = f"(\n{_indent(value)}\n  unless\n{_indent(judged_recovered)}\n)"
    return Condition(fire, stay, by)


def _week_over_week_condition(rule: AlertRule, journey: str) -> Condition:
    """The agent's ``week_over_week_drop_above``: the success rate's relative drop (or, with
    ``step``, that step's p95's relative rise) against the same window a week earlier, with
    ``min_runs`` runs in each window. With no pass at all last week there is no drop."""
    assert rule.window is not None
    window = rule.window
    if rule.step is None:
        by = BY
        passes = _selector("checkout_journey_runs_total", journey, extra=['result="success"'])

        def measured(offset: float) -> tuple[str, str]:
            counted = _counted_runs(journey, rule.classes, window, offset)
            # `or 0 * counted`: runs, but not one pass in the window, is a rate of 0
            passed = (
                f"sum by ({BY}) (\n  ({_count(passes, window, offset)})\n  or\n  0 * {counted}\n)"
            )
            return f"(\n{_indent(passed)}\n  /\n{_indent(counted)}\n)", counted

        (now, runs_now), (before, runs_before) = measured(0), measured(WEEK)
        value = f"1 - {now}\n  /\n{before}"
    else:
        by = "journey, step, location"
        extra = [f"step={_quote(rule.step)}"]

        def measured(offset: float) -> tuple[str, str]:
            buckets = _selector("checkout_step_duration_seconds_bucket", journey, extra=extra)
            quantile = _count(buckets, window, offset)
            p95 = (
                f"histogram_quantile(\n  0.95,\n  sum by ({by}, le) (\n"
                f"{_indent(quantile, 4)}\n  )\n)"
            )
            count = _selector("checkout_step_duration_seconds_count", journey, extra=extra)
            return p95, _sum(_count(count, window, offset), by)

        (now, runs_now), (before, runs_before) = measured(0), measured(WEEK)
        value = f"{now}\n  /\n{before}\n- 1"
    enough = f"{runs_now} >= {rule.min_runs}\n  and\n{runs_before} >= {rule.min_runs}"
    return _judged(rule, f"(\n{_indent(value)}\n)", f"(\n{_indent(enough)}\n)", by, before)


def _failures(journey: str, classes: Sequence[FailureClass]) -> str:
    return _selector("checkout_journey_failures_total", journey, extra=_classes(classes))


def _counted_runs(
    journey: str, classes: Sequence[FailureClass], window: float, offset: float = 0.0
) -> str:
    """Runs the agent judges a rate on: the passes and the failures of the rule's classes.

    One sum over both counters (their label sets differ, so ``or`` keeps both): it is
    defined when either is missing.
    """
    passes = _count(
        _selector("checkout_journey_runs_total", journey, extra=['result="success"']),
        window,
        offset,
    )
    failed = _count(_failures(journey, classes), window, offset)
    return f"sum by ({BY}) (\n  ({passes})\n  or\n  ({failed})\n)"


def _alert_class(rule: AlertRule) -> str:
    """Alertmanager routes on it: the monitor's own problems never page the shop's owner."""
    counts_classes = rule.condition in (
        ConditionKind.FAILURE_RATE,
        ConditionKind.FAILURES_OF_LAST,
    ) or (rule.condition is ConditionKind.WEEK_OVER_WEEK and rule.step is None)
    if counts_classes and FailureClass.SITE not in rule.classes:
        return FailureClass.MONITOR.value
    return FailureClass.SITE.value


def _summary(rule: AlertRule) -> str:
    kind = rule.condition
    window = format_duration(rule.window or 0)
    if kind is ConditionKind.FAILURE_RATE:
        return f"{_WHERE}: {{{{ $value | humanizePercentage }}}} of runs failed over {window}"
    if kind is ConditionKind.FAILURES_OF_LAST:
        return f"{_WHERE}: {{{{ $value }}}} of about the last {rule.of_last} runs failed"
    if kind is ConditionKind.CONSECUTIVE:
        return f"{_WHERE}: {{{{ $value }}}} runs in a row failed"
    if kind is ConditionKind.WEEK_OVER_WEEK:
        if rule.step is None:
            return (
                f"{_WHERE}: success rate over {window} {{{{ $value | humanizePercentage }}}} "
                "below the same time last week"
            )
        return (
            f"{_WHERE}: p95 of step {{{{ $labels.step }}}} over {window} "
            "{{ $value | humanizePercentage }} above the same time last week"
        )
    what = "p95" if rule.step is None else "p95 of step {{ $labels.step }}"
    return f"{_WHERE}: {what} is {{{{ $value | humanizeDuration }}}} over {window}"


def _description(rule: AlertRule, target: Target) -> str:
    """The rule in words, so whoever gets the alert knows what was measured."""
    kind = rule.condition
    classes = " or ".join(rule.classes)
    window = format_duration(rule.window or 0)
    if kind is ConditionKind.FAILURE_RATE:
        fires = (
            f"more than {_percent(rule.threshold)} of the runs over {window} failed for "
            f"{classes} reasons (of at least {rule.min_runs} runs; runs failed for another "
            "reason are left out)"
        )
    elif kind is ConditionKind.FAILURES_OF_LAST:
        of_last = rule.of_last or 0
        fires = (
            f"{rule.failures} of about the last {of_last} runs failed for {classes} reasons "
            f"(over {format_duration(of_last * target.interval)}, {of_last} times the "
            f"{format_duration(target.interval)} interval)"
        )
    elif kind is ConditionKind.CONSECUTIVE:
        fires = (
            f"{rule.consecutive_failures} runs in a row failed on the shop's side (the "
            "monitor's own failures neither count nor break the row)"
        )
    elif kind is ConditionKind.WEEK_OVER_WEEK and rule.step is None:
        fires = (
            f"the success rate over {window} is more than {_percent(rule.threshold)} below "
            f"its rate over the same {window} a week earlier (failures for {classes} reasons "
            f"count; at least {rule.min_runs} runs in each window)"
        )
    elif kind is ConditionKind.WEEK_OVER_WEEK:
        fires = (
            f"the 95th percentile duration of step '{_literal_text(rule.step or '')}' over "
            f"{window} is more than {_percent(rule.threshold)} above its value over the same "
            f"{window} a week earlier (at least {rule.min_runs} runs in each window)"
        )
    else:
        what = "the journey" if rule.step is None else f"step '{_literal_text(rule.step)}'"
        fires = (
            f"the 95th percentile duration of {what} over {window} is above "
            f"{format_duration(rule.threshold)} (of at least {rule.min_runs} runs)"
        )
    held = f" for {format_duration(rule.for_)}" if rule.for_ else ""
    if rule.resolve_below is None:
        resolves = "resolves when that no longer holds"
    elif kind in (ConditionKind.FAILURE_RATE, ConditionKind.WEEK_OVER_WEEK):
        resolves = f"resolves below {_percent(rule.resolve_below)}"
    elif kind is ConditionKind.LATENCY:
        resolves = f"resolves below {format_duration(rule.resolve_below)}"
    else:
        resolves = f"resolves below {_number(rule.resolve_below)}"
    return f"Rule {rule.name} fires when {fires}{held}; it {resolves}."


# --- rules only Prometheus can evaluate ------------------------------------------------------


def _prometheus_only(extra: PrometheusRulesConfig, targets: Sequence[Target]) -> list[Rule]:
    rules = [_overdue([target.journey for target in targets], extra)]
    rules += [_missing(target, extra) for target in targets]
    rules += [_uncovered(target) for target in targets]
    if extra.locations_failing is not None:
        rules += [_locations_failing(target, extra.locations_failing) for target in targets]
    if extra.week_over_week_drop is not None:
        rules += [_week_over_week(target, extra) for target in targets]
    return rules


def _overdue(journeys: Sequence[str], extra: PrometheusRulesConfig) -> Rule:
    """Dead man's switch: no run for N of the intervals the agent itself reports.

    ``last_over_time`` keeps seeing the last run after the series went stale, so a location
    whose agent vanished is still reported while other locations keep the journey alive.
    """
    n = extra.dead_mans_switch_intervals
    lookback = _duration(STALE_LOOKBACK)

    def last(metric: str) -> str:
        return f"max by ({BY}) (\n  last_over_time({_selector(metric, *journeys)}[{lookback}])\n)"

    expr = (
        f"time()\n-\n{last('checkout_journey_last_run_timestamp_seconds')}\n"
        f"> {n} *\n{last('checkout_journey_interval_seconds')}"
    )
    return _alert(
        "CheckoutJourneyOverdue",
        expr,
        0,
        {"severity": "warning", "class": FailureClass.MONITOR.value},
        {
            "summary": f"{_WHERE} has not run for {{{{ $value | humanizeDuration }}}}",
            "description": (
                f"The agent has not finished a run of the journey for {n} of its intervals: "
                "its scheduler is stuck, or the agent is gone. Nothing watches this path "
                "meanwhile."
            ),
        },
    )


def _missing(target: Target, extra: PrometheusRulesConfig) -> Rule:
    """No agent exports the journey, and none did within the dead man's switch's lookback
    (which reports it until then): never started, or gone for good."""
    series = _selector("checkout_journey_last_run_timestamp_seconds", target.journey)
    expr = (
        f"absent({series})\nunless on ()\n"
        f"count(last_over_time({series}[{_duration(STALE_LOOKBACK)}]))"
    )
    wait = extra.dead_mans_switch_intervals * target.interval
    return _alert(
        "CheckoutJourneyMissing",
        expr,
        wait,
        {"severity": "warning", "class": FailureClass.MONITOR.value, "journey": target.journey},
        {
            "summary": "{{ $labels.journey }} is not run anywhere",
            "description": (
                f"No agent has exported a run of the journey for {format_duration(wait)} "
                f"({extra.dead_mans_switch_intervals} times its configured interval): the "
                "agent is down, or its config leaves the journey out."
            ),
        },
    )


def _uncovered(target: Target) -> Rule:
    """Coverage per location, ownership only: a journey configured there (a live agent
    exports its interval: the owner and the runner-up shard do) that no live agent there
    exports as owned, for one interval: the shard that owns it is down, or the agents
    disagree on the split.

    Runs are not read: an owner that is alive but late (stuck, a slow shop, a queue) is
    ``CheckoutJourneyOverdue``'s, at ``dead_mans_switch_intervals``, so one problem is one
    alert. Only live series count, so a journey gone from a reloaded config, or a location
    whose agents all went (``CheckoutJourneyOverdue`` and ``CheckoutMonitorDown`` report
    that), is not reported here. Two exporters of the interval count once (max by)."""
    wait = target.interval
    interval = _selector("checkout_journey_interval_seconds", target.journey)
    owned = _selector("checkout_journey_owned", target.journey)
    expr = f"max by ({BY}) ({interval})\nunless on ({BY})\n{owned}"
    return _alert(
        "CheckoutJourneyUncovered",
        expr,
        wait,
        {"severity": "warning", "class": FailureClass.MONITOR.value, "journey": target.journey},
        {
            "summary": f"{_WHERE}: no live agent there owns it",
            "description": (
                "The journey is configured at {{ $labels.location }} (an agent there exports "
                "its interval), but no live agent there has exported it as owned "
                f"(checkout_journey_owned) for {format_duration(wait)}, its interval: the "
                "agent of the shard that owns it is down, or the agents there disagree on the "
                "shard count (compare checkout_agent_shard_info). Nothing runs it there "
                "meanwhile. An owner that is alive but late is CheckoutJourneyOverdue's."
            ),
        },
    )


def _locations_failing(target: Target, needed: int) -> Rule:
    """N of M: the journey's last checked run failed on the shop's side in N or more
    locations at once.

    Read from the site failures in a row, not the success gauge: that is 0 after a monitor
    failure too, and two agents' browsers crashing (or one browser server they share going
    down) is not the shop broken for everyone. A monitor failure leaves the count as it
    was, so a location counts as the shop was when last checked.
    """
    streak = _selector("checkout_journey_consecutive_failures", target.journey)
    expr = f"count by (journey) (\n  max by ({BY}) ({streak}) > 0\n) >= {needed}"
    alert = _alert(
        "CheckoutJourneyFailingInLocations",
        expr,
        0,
        {"severity": "critical", "class": FailureClass.SITE.value, "journey": target.journey},
        {
            "summary": "{{ $labels.journey }} is failing in {{ $value }} locations",
            "description": (
                f"The journey's last checked run failed on the shop's side in {needed} or "
                "more locations at once (the monitor's own failures, such as a browser "
                "crash, do not count): the shop is broken for everyone, not for one agent's "
                "network."
            ),
        },
    )
    return _owned(alert, target)


def _week_over_week(target: Target, extra: PrometheusRulesConfig) -> Rule:
    """The success rate dropped by more than the configured fraction of last week's, as
    the agent's ``week_over_week_drop_above`` judges it (without its classes and min_runs)."""
    assert extra.week_over_week_drop is not None
    window = extra.week_over_week_window
    # passes and failures: a skipped run checked nothing, so it must not lower the rate
    runs = _selector("checkout_journey_runs_total", target.journey, extra=[_CHECKED_RESULTS])
    passes = _selector("checkout_journey_runs_total", target.journey, extra=['result="success"'])

    def success_rate(offset: float) -> str:
        shift = f" offset {_duration(offset)}" if offset else ""
        # `or 0 * runs`: with runs but not one pass since the agent started, the rate is 0
        passed = (
            f"sum by ({BY}) (\n  ({_count(passes, window, offset)})\n  or\n  0 * {runs}{shift}\n)"
        )
        return f"(\n{_indent(passed)}\n  /\n{_indent(_sum(_count(runs, window, offset)))}\n)"

    factor = _number(round(1 - extra.week_over_week_drop, 12))
    expr = f"{success_rate(0)}\n< {factor} *\n{success_rate(WEEK)}"
    alert = _alert(
        "CheckoutJourneySuccessDropped",
        expr,
        0,
        {"severity": "warning", "class": FailureClass.SITE.value, "journey": target.journey},
        {
            "summary": (
                f"{_WHERE}: success rate {{{{ $value | humanizePercentage }}}} "
                f"over {format_duration(window)}"
            ),
            "description": (
                f"The journey's success rate over {format_duration(window)} is more than "
                f"{_percent(extra.week_over_week_drop)} below its rate over the same time a "
                "week ago."
            ),
        },
    )
    return _owned(alert, target)


def _owned(alert: Rule, target: Target) -> Rule:
    if target.owner:
        alert["annotations"]["owner"] = _literal_text(target.owner)
    if target.runbook:
        alert["annotations"]["runbook_url"] = _literal_text(target.runbook)
    return alert


# --- PromQL ----------------------------------------------------------------------------------


def _selector(metric: str, *journeys: str, extra: Sequence[str] = ()) -> str:
    if len(journeys) == 1:
        journey = f"journey={_quote(journeys[0])}"
    else:
        journey = f"journey=~{_quote('|'.join(_regex_literal(name) for name in journeys))}"
    return f"{metric}{{{', '.join([journey, *extra])}}}"


def _classes(classes: Sequence[FailureClass]) -> list[str]:
    names = sorted(set(classes))
    if len(names) == len(FailureClass):
        return []
    if len(names) == 1:
        return [f"class={_quote(names[0])}"]
    return [f"class=~{_quote('|'.join(names))}"]


def _count(series: str, window: float, offset: float = 0.0) -> str:
    """How much each counter in ``series`` grew over ``window``, ending ``offset`` ago.

    Where the counter did not exist at the window's start, or was higher then (the agent
    restarted since), it counts from 0.
    """
    now = f"{series} offset {_duration(offset)}" if offset else series
    before = f"{series} offset {_duration(offset + window)}"
    return f"{now} - {before} >= 0 or {now}"


def _sum(expr: str, by: str = BY) -> str:
    return f"sum by ({by}) (\n{_indent(expr)}\n)"


def _quote(text: str) -> str:
    """A PromQL string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _regex_literal(text: str) -> str:
    """``text`` matched literally by RE2: a journey name may hold a '.'."""
    return re.sub(r"([^A-Za-z0-9_\- ])", r"\\\1", text)


def _number(value: float) -> str:
    return repr(float(value)).removesuffix(".0")


def _percent(value: float) -> str:
    return f"{value * 100:g}%"


def _duration(seconds: float) -> str:
    """A Prometheus duration in the largest unit that divides it: 15m, 169h, 1500ms."""
    millis = round(seconds * 1000)
    for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        if millis and millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def _indent(text: str, spaces: int = 2) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.splitlines())


# --- the document --------------------------------------------------------------------------


def _literal_text(text: str) -> str:
    """Config text shown as written: ``{{`` in an annotation would start a Go template."""
    return re.sub(r"\{\{|\}\}", lambda match: '{{ "' + match[0] + '" }}', text)


def _alert(
    name: str, expr: str, hold: float, labels: dict[str, str], annotations: dict[str, str]
) -> Rule:
    alert: Rule = {"alert": name, "expr": _Block(expr + "\n")}
    if hold:
        alert["for"] = _duration(hold)
    alert["labels"] = labels
    alert["annotations"] = annotations
    return alert


class _Block(str):
    """A string written as a YAML ``|`` block, so a PromQL expression keeps its lines."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    pass


def _represent_block(dumper: yaml.SafeDumper, data: _Block) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|")


_Dumper.add_representer(_Block, _represent_block)


def _document(loaded: LoadedConfig, rules: Sequence[Rule], notes: Sequence[str]) -> str:
    source = loaded.source
    header = [
        f"Prometheus alerting rules generated by checkout-monitor {__version__} from {source}.",
        "Do not edit by hand: change the config, then run again",
        f"  checkout-monitor rules --config {source} --output <this file>",
        "",
        "Alertnames are the config's rule names; CheckoutJourney* are Prometheus-only rules.",
        "Counts over a window are counter differences (x - x offset W >= 0 or x); F of the last",
        "T runs looks back T times the journey's interval; a firing alert with resolve_below",
        "stays firing until its value drops below it (it reads its own ALERTS series).",
        *notes,
    ]
    document = {
        "groups": [{"name": loaded.config.alerting.prometheus.evaluation_group, "rules": rules}]
    }
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    return "".join(f"# {line}".rstrip() + "\n" for line in header) + body
