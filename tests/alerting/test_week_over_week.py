"""``week_over_week_drop_above`` on a seeded run history: a week of runs at chosen times,
recorded through the real writer into a real SQLite file, judged through the real reader."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from checkout_monitor.alerting.week_over_week import WeekOverWeekChecks, measure_week_over_week
from checkout_monitor.config.alerting import AlertRule
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.history import HistoryReader, HistoryStore
from support.history_seed import T0, result
from support.prometheus_servers import wait_until

WEEK_MINUTES = 7 * 24 * 60
JOURNEY = "guest-checkout"
# judged at the end of the hour that starts a week after T0: last week's hour is T0's
NOW = (T0 + timedelta(days=7, hours=1)).timestamp()


def rule(**fields: Any) -> AlertRule:
    return AlertRule.model_validate(
        {"name": "wow", "week_over_week_drop_above": 0.2, "window": "1h", **fields}
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


@pytest.fixture
def store(path: Path) -> Iterator[HistoryStore]:
    store = HistoryStore(path)
    yield store
    store.close()


@pytest.fixture
def reader(store: HistoryStore, path: Path) -> Iterator[HistoryReader]:
    reader = HistoryReader(path)
    yield reader
    reader.close()


def seed_week(store: HistoryStore, *, pay: float = 2.0) -> None:
    """A steady week: a passing run every 5 minutes of the first hour, then every 2 hours
    to the week's end (12 runs in last week's hour)."""
    minutes = [*range(0, 60, 5), *range(60, WEEK_MINUTES, 120)]
    for minute in minutes:
        store.record(result(minute, pay=pay), source="serve")


def seed_now(store: HistoryStore, outcomes: str, **kwargs: Any) -> None:
    """This hour's runs, one every 5 minutes from a week after T0: P passed, F failed."""
    for i, letter in enumerate(outcomes):
        outcome = "failed" if letter == "F" else "passed"
        store.record(result(WEEK_MINUTES + 5 * i, outcome, **kwargs), source="serve")


def test_a_drop_beyond_the_fraction_fires_and_says_both_rates(
    store: HistoryStore, reader: HistoryReader
) -> None:
    seed_week(store)
    seed_now(store, "PPFPFPFPFP")  # 6 of 10 passed
    m = measure_week_over_week(rule(), reader, "guest-checkout", NOW)
    assert m.value == pytest.approx(0.4)
    assert (m.breached, m.recovered) == (True, False)
    assert m.text == (
        "guest-checkout succeeded 60% of runs in the last hour against 100% the same hour "
        "last week (a 40% drop; the rule fires above 20%)"
    )


def test_no_drop_does_not_fire_and_recovers(store: HistoryStore, reader: HistoryReader) -> None:
    seed_week(store)
    seed_now(store, "PPPPPPPPPF")  # 90%: a 10% drop, under the 20% that fires
    m = measure_week_over_week(rule(), reader, "guest-checkout", NOW)
    assert m.value == pytest.approx(0.1)
    assert (m.breached, m.recovered) == (False, True)
    assert "(a 10% drop; the rule fires above 20%)" in m.text


@pytest.mark.parametrize(
    ("outcomes", "words"), [("PPPPPPPPPPPF", "an 8% drop"), ("PPPPPPPPF", "an 11% drop")]
)
def test_the_drop_reads_as_english(
    store: HistoryStore, reader: HistoryReader, outcomes: str, words: str
) -> None:
    seed_week(store)
    seed_now(store, outcomes)
    assert f"({words}; the rule fires" in measure_week_over_week(rule(), reader, JOURNEY, NOW).text


def test_between_resolve_below_and_the_threshold_an_alert_keeps_its_state(
    store: HistoryStore, reader: HistoryReader
) -> None:
    seed_week(store)
    seed_now(store, "PPPFPPPF")  # exactly a 25% drop: not above 0.25, not below 0.1
    wow = rule(week_over_week_drop_above=0.25, resolve_below=0.1)
    m = measure_week_over_week(wow, reader, "guest-checkout", NOW)
    assert m.value == 0.25
    assert (m.breached, m.recovered) == (False, False)


@pytest.mark.parametrize(
    ("now", "week", "expected"),
    [
        ("FF", True, "no verdict: 2 runs in the last hour and 12 the same hour last week"),
        ("FFFF", False, "no verdict: 4 runs in the last hour and 0 the same hour last week"),
    ],
    ids=["too-few-now", "nothing-last-week"],
)
def test_too_few_runs_in_either_window_gives_no_verdict(
    store: HistoryStore, reader: HistoryReader, now: str, week: bool, expected: str
) -> None:
    if week:
        seed_week(store)
    seed_now(store, now)
    m = measure_week_over_week(rule(min_runs=3), reader, "guest-checkout", NOW)
    assert (m.value, m.breached, m.recovered) == (None, False, False)
    assert m.text == f"{expected} (needs 3 in each)"


def test_only_failures_of_the_rules_classes_count(
    store: HistoryStore, reader: HistoryReader
) -> None:
    seed_week(store)
    seed_now(store, "PPPP")
    seed_now_monitor = [WEEK_MINUTES + 21, WEEK_MINUTES + 22, WEEK_MINUTES + 23]
    for minute in seed_now_monitor:  # the monitor's own browser crashed: not the shop's fault
        store.record(result(minute, "failed", kind=FailureKind.BROWSER_CRASH), source="serve")
    site = measure_week_over_week(rule(), reader, "guest-checkout", NOW)
    assert (site.value, site.breached) == (0.0, False)
    assert "succeeded 100% of runs" in site.text
    both = measure_week_over_week(rule(classes=["site", "monitor"]), reader, "guest-checkout", NOW)
    assert both.breached
    assert "succeeded 57% of runs" in both.text  # 4 of 7


def test_with_a_step_its_p95_latency_rising_fires(
    store: HistoryStore, reader: HistoryReader
) -> None:
    seed_week(store, pay=2.0)
    seed_now(store, "PPPPPP", pay=3.0)
    m = measure_week_over_week(rule(step="pay"), reader, "guest-checkout", NOW)
    assert m.value == pytest.approx(0.5)
    assert m.breached
    assert m.text == (
        "guest-checkout step 'pay' took 3s (p95) in the last hour against 2s the same hour "
        "last week (a 50% rise; the rule fires above 20%)"
    )
    steady = measure_week_over_week(
        rule(step="open product"), reader, "guest-checkout", NOW
    )  # 1s both weeks
    assert (steady.value, steady.breached, steady.recovered) == (0.0, False, True)


def test_other_journeys_runs_do_not_count(store: HistoryStore, reader: HistoryReader) -> None:
    seed_week(store)
    seed_now(store, "FFFFFF", journey="other")
    m = measure_week_over_week(rule(), reader, "guest-checkout", NOW)
    assert m.value is None


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def answer(checks: WeekOverWeekChecks, wow: AlertRule, journey: str = "guest-checkout") -> str:
    """The measurement once the worker thread has answered (a bounded wait)."""
    texts: list[str] = []

    def answered() -> bool:
        texts.append(checks.measurement("wow/j", wow, journey, NOW).text)
        return not texts[-1].startswith("no verdict yet")

    wait_until(answered, 30, "the week-over-week worker's answer")
    return texts[-1]


def test_checks_read_the_history_at_most_once_a_minute(store: HistoryStore, path: Path) -> None:
    clock = FakeMonotonic()
    checks = WeekOverWeekChecks(monotonic=clock)
    checks.configure(path)
    try:
        seed_week(store)
        seed_now(store, "PPPPPP")
        wow = rule()
        assert "succeeded 100% of runs" in answer(checks, wow)
        store.record(result(WEEK_MINUTES + 40, "failed"), source="serve")
        store.record(result(WEEK_MINUTES + 45, "failed"), source="serve")
        clock.now += 59  # not due: the last answer stands, even after a run of the journey
        checks.observed("wow/j")
        for _ in range(5):
            assert "succeeded 100% of runs" in checks.measurement("wow/j", wow, JOURNEY, NOW).text
        clock.now += 1
        wait_until(
            lambda: "succeeded 75% of runs" in checks.measurement("wow/j", wow, JOURNEY, NOW).text,
            30,
            "the history read again a minute later",
        )
    finally:
        checks.close()


def test_a_new_run_is_read_at_once_while_there_was_no_verdict(
    store: HistoryStore, path: Path
) -> None:
    clock = FakeMonotonic()
    checks = WeekOverWeekChecks(monotonic=clock)
    checks.configure(path)
    try:
        seed_week(store)
        seed_now(store, "FF")
        wow = rule()
        assert answer(checks, wow).startswith("no verdict: 2 runs")
        store.record(result(WEEK_MINUTES + 30, "failed"), source="serve")
        checks.observed("wow/j")  # the same minute: read again only because of the new run
        wait_until(
            lambda: "succeeded 0% of runs" in checks.measurement("wow/j", wow, JOURNEY, NOW).text,
            30,
            "the history read again after a new run",
        )
    finally:
        checks.close()


def test_without_a_history_the_rule_says_so_and_never_judges(tmp_path: Path) -> None:
    checks = WeekOverWeekChecks()
    try:
        checks.configure(None)
        disabled = checks.measurement("wow/j", rule(), "guest-checkout", NOW)
        assert disabled.text == "no history: the run history is disabled (history.enabled: false)"
        assert (disabled.value, disabled.breached, disabled.recovered) == (None, False, False)
        missing = tmp_path / "gone" / "history.sqlite3"
        checks.configure(missing)
        text = answer(checks, rule())
        assert text.startswith(f"no history: cannot read {missing} (")
        m = checks.measurement("wow/j", rule(), "guest-checkout", NOW)
        assert (m.value, m.breached, m.recovered) == (None, False, False)
        broken = tmp_path / "broken.sqlite3"
        broken.write_bytes(b"not a database, only some bytes" * 100)
        checks.configure(broken)
        assert answer(checks, rule()).startswith(f"no history: cannot read {broken} (")
    finally:
        checks.close()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"window": None}, "week_over_week_drop_above needs a window, e.g. window: 15m"),
        ({"week_over_week_drop_above": 1.5}, "must be a fraction between 0 and 1, not 1.5"),
        ({"week_over_week_drop_above": 0}, "must be a fraction between 0 and 1, not 0"),
        ({"resolve_below": 0.3}, "resolve_below (0.3) must not be above the fire threshold"),
        ({"of_last": 5}, "of_last only goes with failures"),
    ],
)
def test_invalid_week_over_week_rules_say_what_is_wrong(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        rule(**fields)
    assert message in str(raised.value)
