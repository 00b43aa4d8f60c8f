"""Rule conditions, hysteresis and the alert state machine, on made-up run histories."""

from __future__ import annotations

from typing import Any

import pytest

from checkout_monitor.alerting.conditions import measure, percentile
from checkout_monitor.alerting.run_history import RunRecord
from checkout_monitor.alerting.state_machine import AlertState, AlertStatus, Timing, Transition
from checkout_monitor.config.alerting import AlertRule

NOW = 1_000_000.0


def rule(**fields: Any) -> AlertRule:
    return AlertRule.model_validate({"name": "r", **fields})


def runs(
    pattern: str, every: float = 60.0, durations: list[float] | None = None
) -> list[RunRecord]:
    """``pattern`` oldest first: ``.`` passed, ``x`` failed (shop), ``m`` failed (monitor),
    ``s`` skipped (every step skipped: nothing checked)."""
    out = []
    for i, mark in enumerate(pattern):
        finished = NOW - (len(pattern) - 1 - i) * every
        duration = durations[i] if durations else 2.0
        if mark == "s":
            out.append(RunRecord(finished, True, 0.01, skipped=True))
        elif mark == ".":
            out.append(RunRecord(finished, True, duration, step_durations={"pay": duration / 2}))
        else:
            kind, cls = (
                ("browser_crash", "monitor") if mark == "m" else ("payment_declined", "site")
            )
            out.append(RunRecord(finished, False, duration, cls, kind, "pay", "Card declined"))
    return out


RATE = {"failure_rate_above": 0.2, "window": "10m", "min_runs": 3}
F_OF_T = {"failures": 3, "of_last": 5}

MEASUREMENTS = [
    # (rule fields, history, value, breached, recovered)
    (RATE, "..x..", 0.2, False, True),  # exactly at the threshold: not above it
    (RATE, "..xx.", 0.4, True, False),
    (RATE, "xx", None, False, False),  # fewer than min_runs in the window
    ({**RATE, "window": "2m30s"}, "xx...", 0.0, False, True),  # old failures fell out
    ({**RATE, "resolve_below": 0.1}, "xx...x....", 0.3, True, False),
    ({**RATE, "resolve_below": 0.1}, "x.....", 1 / 6, False, False),  # between the levels
    ({**RATE, "resolve_below": 0.1}, "......", 0.0, False, True),
    ({**RATE}, "...mmm", 0.0, False, True),  # monitor failures say nothing about the shop
    ({**RATE, "classes": ["site", "monitor"]}, "..mmm", 0.6, True, False),
    (F_OF_T, "xxx..", 3, True, False),  # 3 of the last 5
    (F_OF_T, "xx.x.x.", 2, False, True),  # only the last 5 count
    (F_OF_T, "xxx", 3, True, False),  # fewer than T runs, but already F failures
    ({**F_OF_T, "resolve_below": 1}, "x....", 1, False, False),
    ({"consecutive_failures": 2}, "x.xx", 2, True, False),
    ({"consecutive_failures": 2}, "xx.", 0, False, True),
    ({"consecutive_failures": 2}, "xxmx", 3, True, False),  # a monitor failure is skipped
    ({"consecutive_failures": 2}, "", None, False, False),
    # skipped runs checked nothing: no rule counts them, as a pass or as a failure
    (RATE, "x.xsss", 2 / 3, True, False),
    (RATE, "sssss", None, False, False),
    (F_OF_T, "xx.xss", 3, True, False),
    ({"consecutive_failures": 2}, "xsxs", 2, True, False),
    ({"p95_above": "1s", "window": "1h", "min_runs": 2}, "..sss", 2.0, True, False),
]


@pytest.mark.parametrize(("fields", "history", "value", "breached", "recovered"), MEASUREMENTS)
def test_measure(
    fields: dict[str, Any], history: str, value: float | None, breached: bool, recovered: bool
) -> None:
    m = measure(rule(**fields), runs(history), NOW)
    assert m.value == (pytest.approx(value) if value is not None else None), m.text
    assert (m.breached, m.recovered) == (breached, recovered), m.text


def test_latency_rule_reads_the_journey_or_one_step() -> None:
    durations = [1.0] * 18 + [9.0, 9.5]
    history = runs("." * 20, every=10, durations=durations)
    journey = measure(rule(p95_above="8s", window="1h"), history, NOW)
    assert journey.breached and journey.value == 9.0
    assert "p95 of the journey was 9s over 20 runs" in journey.text
    step = measure(rule(p95_above="8s", window="1h", step="pay"), history, NOW)
    assert not step.breached and step.value == 4.5


def test_monitor_health_counts_shop_failures_as_working_runs() -> None:
    health = rule(failures=3, of_last=5, classes=["monitor"])
    assert measure(health, runs("xxmmm"), NOW, others_pass=True).breached
    assert not measure(health, runs("mmxxx"), NOW, others_pass=True).breached


def test_percentile_is_nearest_rank() -> None:
    assert percentile([1, 2, 3, 4], 0.95) == 4
    assert percentile([5], 0.95) == 5
    assert percentile(list(range(1, 101)), 0.95) == 95


INVALID_RULES = [
    ({}, "give exactly one condition"),
    (
        {"failure_rate_above": 0.2, "consecutive_failures": 2, "window": "5m"},
        "got failure_rate_above, consecutive_failures",
    ),
    ({"failure_rate_above": 0.2}, "failure_rate_above needs a window"),
    ({"failures": 3}, "failures needs of_last"),
    ({"failures": 6, "of_last": 5}, "failures (6) cannot be more than of_last (5)"),
    ({"consecutive_failures": 2, "of_last": 5}, "of_last only goes with failures"),
    (
        {"consecutive_failures": 2, "step": "pay"},
        "step only goes with p95_above or week_over_week_drop_above",
    ),
    (
        {"failure_rate_above": 0.2, "window": "5m", "resolve_below": 0.5},
        "resolve_below (0.5) must not be above",
    ),
]


@pytest.mark.parametrize(("fields", "message"), INVALID_RULES)
def test_invalid_rules_say_what_is_wrong(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        rule(**fields)


# --- the state machine -----------------------------------------------------------------------

BREACH = measure(rule(consecutive_failures=1), runs("x"), NOW)
CLEAR = measure(rule(consecutive_failures=1), runs("."), NOW)
BETWEEN = measure(rule(consecutive_failures=2, resolve_below=1), runs("x"), NOW)  # neither
NO_DATA = measure(rule(consecutive_failures=1), [], NOW)


def _replay(
    steps: list[tuple[float, Any]], timing: Timing
) -> list[tuple[float, AlertStatus, Transition | None]]:
    state = AlertState(since=0)
    out = []
    for t, m in steps:
        transition = state.advance(m, t, timing)
        out.append((t, state.status, transition))
    return out


def test_fires_at_once_and_resolves() -> None:
    assert _replay([(1, CLEAR), (2, BREACH), (3, BREACH), (4, CLEAR)], Timing(0, 0, 0, 0)) == [
        (1, AlertStatus.OK, None),
        (2, AlertStatus.FIRING, Transition.FIRING),
        (3, AlertStatus.FIRING, None),
        (4, AlertStatus.RESOLVED, Transition.RESOLVED),
    ]


def test_for_holds_it_pending_and_a_blip_never_fires() -> None:
    timing = Timing(for_=60, min_firing=0, min_resolved=0, repeat_interval=0)
    assert [
        s
        for _t, s, _tr in _replay(
            [(0, BREACH), (30, CLEAR), (40, BREACH), (99, BREACH), (100, BREACH)], timing
        )
    ] == [
        AlertStatus.PENDING,
        AlertStatus.OK,
        AlertStatus.PENDING,
        AlertStatus.PENDING,
        AlertStatus.FIRING,
    ]


def test_hysteresis_keeps_it_firing_between_the_levels() -> None:
    out = _replay([(0, BREACH), (10, BETWEEN), (20, BETWEEN), (30, CLEAR)], Timing(0, 0, 0, 0))
    assert [s for _t, s, _tr in out] == [
        AlertStatus.FIRING,
        AlertStatus.FIRING,
        AlertStatus.FIRING,
        AlertStatus.RESOLVED,
    ]


def test_flap_control_holds_both_states() -> None:
    timing = Timing(for_=0, min_firing=100, min_resolved=100, repeat_interval=0)
    out = _replay([(0, BREACH), (50, CLEAR), (100, CLEAR), (150, BREACH), (200, BREACH)], timing)
    assert [(s, tr) for _t, s, tr in out] == [
        (AlertStatus.FIRING, Transition.FIRING),
        (AlertStatus.FIRING, None),  # too soon to resolve
        (AlertStatus.RESOLVED, Transition.RESOLVED),
        (AlertStatus.RESOLVED, None),  # too soon to fire again
        (AlertStatus.FIRING, Transition.FIRING),
    ]


def test_reminders_while_firing_and_no_data_changes_nothing() -> None:
    timing = Timing(for_=0, min_firing=0, min_resolved=0, repeat_interval=100)
    state = AlertState()
    assert state.advance(BREACH, 0, timing) is Transition.FIRING
    first_episode = state.episode
    assert state.advance(BREACH, 99, timing) is None
    assert state.advance(BREACH, 100, timing) is Transition.REMINDER
    assert state.advance(NO_DATA, 500, timing) is Transition.REMINDER
    assert state.reminders == 2
    assert state.advance(NO_DATA, 550, timing) is None  # no data never resolves
    assert state.status is AlertStatus.FIRING
    assert state.advance(CLEAR, 600, timing) is Transition.RESOLVED
    assert state.advance(BREACH, 700, timing) is Transition.FIRING
    assert state.episode != first_episode  # a new episode: new notification keys


def test_state_survives_a_round_trip() -> None:
    state = AlertState()
    state.advance(BREACH, 5, Timing(0, 0, 0, 0))
    assert AlertState.from_dict(state.to_dict()) == state
