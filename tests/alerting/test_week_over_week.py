"""``week_over_week_drop_above`` on a seeded run history: a week of runs at chosen times,
recorded through the real writer into a real SQLite file, judged through the real reader."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from checkout_monitor.alerting.alert_store import AlertStore
from checkout_monitor.alerting.conditions import Measurement
from checkout_monitor.alerting.engine import AlertEngine
from checkout_monitor.alerting.service import Alerting
from checkout_monitor.alerting.state_machine import AlertState, AlertStatus, Timing, Transition
from checkout_monitor.alerting.week_over_week import WeekOverWeekChecks, measure_week_over_week
from checkout_monitor.config.alerting import AlertRule
from checkout_monitor.config.loader import parse_config
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.history import HistoryReader, HistoryStore
from checkout_monitor.history.recorder import HistoryRecorder
from checkout_monitor.history.store import Retention
from checkout_monitor.metrics.families import Metrics
from support.history_seed import SECRET, T0, path, result, store
from support.manual_clock import ManualClock
from support.prometheus_servers import wait_until

__all__ = ["path", "store"]  # the history fixtures (support/history_seed.py)

WEEK_MINUTES = 7 * 24 * 60
JOURNEY = "guest-checkout"
LOCATION = "eu-west"  # where history_seed's runs ran, and the agent's config location
SITE_ONLY = ", counting site failures only"  # the default classes, said in every message
# judged at the end of the hour that starts a week after T0: last week's hour is T0's
NOW = (T0 + timedelta(days=7, hours=1)).timestamp()


def rule(**fields: Any) -> AlertRule:
    return AlertRule.model_validate(
        {"name": "wow", "week_over_week_drop_above": 0.2, "window": "1h", **fields}
    )


@pytest.fixture
def reader(store: HistoryStore, path: Path) -> Iterator[HistoryReader]:
    reader = HistoryReader(path)
    yield reader
    reader.close()


def measure(wow: AlertRule, reader: HistoryReader, journey: str) -> Measurement:
    return measure_week_over_week(wow, reader, journey, NOW, location=LOCATION)


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
    m = measure(rule(), reader, "guest-checkout")
    assert m.value == pytest.approx(0.4)
    assert (m.breached, m.recovered) == (True, False)
    assert m.text == (
        "guest-checkout succeeded 60% of runs in the last hour against 100% the same hour "
        "last week (a 40% drop, counting site failures only; the rule fires above 20%)"
    )


def test_no_drop_does_not_fire_and_recovers(store: HistoryStore, reader: HistoryReader) -> None:
    seed_week(store)
    seed_now(store, "PPPPPPPPPF")  # 90%: a 10% drop, under the 20% that fires
    m = measure(rule(), reader, "guest-checkout")
    assert m.value == pytest.approx(0.1)
    assert (m.breached, m.recovered) == (False, True)
    assert f"(a 10% drop{SITE_ONLY}; the rule fires above 20%)" in m.text


@pytest.mark.parametrize(
    ("outcomes", "words"),
    [
        ("PPPPPPPPPPPF", "an 8% drop"),
        ("PPPPPPPPF", "an 11% drop"),
        ("PPPPPPPPPFF", "an 18% drop"),
        ("PPPPPPPPPPF", "a 9% drop"),
    ],
)
def test_the_drop_reads_as_english(
    store: HistoryStore, reader: HistoryReader, outcomes: str, words: str
) -> None:
    seed_week(store)
    seed_now(store, outcomes)
    assert f"({words}{SITE_ONLY}; the rule fires" in measure(rule(), reader, JOURNEY).text


def test_between_resolve_below_and_the_threshold_an_alert_keeps_its_state(
    store: HistoryStore, reader: HistoryReader
) -> None:
    seed_week(store)
    seed_now(store, "PPPFPPPF")  # exactly a 25% drop: not above 0.25, not below 0.1
    wow = rule(week_over_week_drop_above=0.25, resolve_below=0.1)
    m = measure(wow, reader, "guest-checkout")
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
    m = measure(rule(min_runs=3), reader, "guest-checkout")
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
    site = measure(rule(), reader, "guest-checkout")
    assert (site.value, site.breached) == (0.0, False)
    # "100%" with 3 failed runs: the message says which failures it counted
    assert "succeeded 100% of runs" in site.text
    assert f"(no drop{SITE_ONLY}; the rule fires" in site.text
    both = measure(rule(classes=["site", "monitor"]), reader, "guest-checkout")
    assert both.breached
    assert "succeeded 57% of runs" in both.text  # 4 of 7
    assert "(a 43% drop; the rule fires" in both.text  # every class counts: nothing to name
    monitor = measure(rule(classes=["monitor"]), reader, "guest-checkout")
    assert ", counting monitor failures only;" in monitor.text


def test_with_a_step_its_p95_latency_rising_fires(
    store: HistoryStore, reader: HistoryReader
) -> None:
    seed_week(store, pay=2.0)
    seed_now(store, "PPPPPP", pay=3.0)
    m = measure(rule(step="pay"), reader, "guest-checkout")
    assert m.value == pytest.approx(0.5)
    assert m.breached
    assert m.text == (
        "guest-checkout step 'pay' took 3s (p95) in the last hour against 2s the same hour "
        "last week (a 50% rise; the rule fires above 20%)"
    )
    steady = measure(rule(step="open product"), reader, "guest-checkout")  # 1s both weeks
    assert (steady.value, steady.breached, steady.recovered) == (0.0, False, True)


def test_other_journeys_runs_do_not_count(store: HistoryStore, reader: HistoryReader) -> None:
    seed_week(store)
    seed_now(store, "FFFFFF", journey="other")
    m = measure(rule(), reader, "guest-checkout")
    assert m.value is None


def test_only_the_agents_own_runs_at_its_location_count(
    store: HistoryStore, reader: HistoryReader
) -> None:
    """run-smoke --history writes the same file, and so may an agent elsewhere: a CI run
    failing after a deploy, or another location's outage, is not this agent's drop."""
    seed_week(store)
    seed_now(store, "PPPPPPPP")
    for i in range(8):  # failed CI runs, here, this hour, slow at 'pay'
        store.record(result(WEEK_MINUTES + 2 + 5 * i, "failed", pay=9.0), source="run-smoke")
    for i in range(8):  # another agent's failures, this hour
        other = result(WEEK_MINUTES + 3 + 5 * i, "failed", pay=9.0, location="us-east")
        store.record(other, source="serve")
    m = measure(rule(), reader, JOURNEY)
    assert (m.value, m.breached) == (0.0, False), m.text
    assert "succeeded 100% of runs in the last hour against 100%" in m.text
    slower = measure(rule(step="pay"), reader, JOURNEY)
    assert (slower.value, slower.breached) == (0.0, False), slower.text
    # the same history read without the scope sees the CI and us-east failures
    hour = (T0 + timedelta(days=7), T0 + timedelta(days=7, hours=1))
    assert reader.success_rate(JOURNEY, *hour).failed == 16


def test_a_step_rise_leaves_out_runs_failed_for_other_classes(
    store: HistoryStore, reader: HistoryReader
) -> None:
    """As p95_above: a browser crash at 'pay' after 30s says nothing of the shop's speed."""
    seed_week(store, pay=2.0)
    seed_now(store, "PPPPPPPP", pay=2.0)
    for minute in (WEEK_MINUTES + 41, WEEK_MINUTES + 42, WEEK_MINUTES + 43):
        crash = result(minute, "failed", kind=FailureKind.BROWSER_CRASH, pay=30.0)
        store.record(crash, source="serve")
    m = measure(rule(step="pay"), reader, JOURNEY)
    assert (m.value, m.breached) == (0.0, False), m.text
    counted = measure(rule(step="pay", classes=["site", "monitor"]), reader, JOURNEY)
    assert counted.breached, counted.text  # 3 of 11 took 30s: the p95 is 30s


def test_a_rise_of_one_or_more_is_a_doubling_or_more(
    store: HistoryStore, reader: HistoryReader
) -> None:
    seed_week(store, pay=2.0)
    seed_now(store, "PPPPPP", pay=5.0)  # 2s -> 5s: a 150% rise
    m = measure(rule(step="pay", week_over_week_drop_above=1.0), reader, JOURNEY)
    assert (m.value, m.breached) == (pytest.approx(1.5), True)
    assert "(a 150% rise; the rule fires above 100%)" in m.text
    calm = measure(rule(step="pay", week_over_week_drop_above=2.0), reader, JOURNEY)
    assert (calm.breached, calm.recovered) == (False, True)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


KEY = "wow/j"


def checks_on(
    path: Path | None,
    wow: AlertRule,
    clock: FakeMonotonic | None = None,
    secrets: frozenset[str] = frozenset(),
) -> WeekOverWeekChecks:
    checks = WeekOverWeekChecks(monotonic=clock or FakeMonotonic())
    checks.configure(path, {KEY: wow}, location=LOCATION, secrets=secrets)
    return checks


def answer(checks: WeekOverWeekChecks, wow: AlertRule, journey: str = "guest-checkout") -> str:
    """The measurement once the worker thread has answered (a bounded wait)."""
    texts: list[str] = []

    def answered() -> bool:
        texts.append(checks.measurement(KEY, wow, journey, NOW).text)
        return not texts[-1].startswith("no verdict yet")

    wait_until(answered, 30, "the week-over-week worker's answer")
    return texts[-1]


def finished_at(minute: float) -> float:
    run = result(minute)
    return run.started_at.timestamp() + run.duration_seconds


def test_checks_read_the_history_at_most_once_a_minute(store: HistoryStore, path: Path) -> None:
    clock = FakeMonotonic()
    wow = rule()
    checks = checks_on(path, wow, clock)
    try:
        seed_week(store)
        seed_now(store, "PPPPPP")
        assert "succeeded 100% of runs" in answer(checks, wow)
        store.record(result(WEEK_MINUTES + 40, "failed"), source="serve")
        store.record(result(WEEK_MINUTES + 45, "failed"), source="serve")
        clock.now += 59  # not due: the last answer stands, even after a run of the journey
        checks.observed(KEY, finished_at(WEEK_MINUTES + 45))
        for _ in range(5):
            assert "succeeded 100% of runs" in checks.measurement(KEY, wow, JOURNEY, NOW).text
        clock.now += 1
        wait_until(
            lambda: "succeeded 75% of runs" in checks.measurement(KEY, wow, JOURNEY, NOW).text,
            30,
            "the history read again a minute later",
        )
    finally:
        checks.close()


def test_a_new_run_is_read_at_once_while_there_was_no_verdict(
    store: HistoryStore, path: Path
) -> None:
    wow = rule()
    checks = checks_on(path, wow)
    try:
        seed_week(store)
        seed_now(store, "FF")
        assert answer(checks, wow).startswith("no verdict: 2 runs")
        store.record(result(WEEK_MINUTES + 30, "failed"), source="serve")
        checks.observed(KEY, finished_at(WEEK_MINUTES + 30))  # the same minute: read again
        wait_until(
            lambda: "succeeded 0% of runs" in checks.measurement(KEY, wow, JOURNEY, NOW).text,
            30,
            "the history read again after a new run",
        )
    finally:
        checks.close()


def test_a_run_committed_after_the_read_it_triggered_is_still_read_at_once(
    store: HistoryStore, path: Path
) -> None:
    """serve hands the run to the recorder's thread and the alerting looks at once: the
    first read may come before the commit. The run stays new until a read has seen it."""
    wow = rule()
    written = threading.Event()
    recorder = HistoryRecorder(
        path,
        Retention(days=3650, max_bytes=10**9),
        source="serve",
        on_write=lambda ok, _reason: written.set(),
        busy_timeout_ms=60_000,
    )
    checks = checks_on(path, wow)
    lock = sqlite3.connect(path, isolation_level=None)
    try:
        seed_week(store)
        seed_now(store, "FF")
        assert answer(checks, wow).startswith("no verdict: 2 runs")
        lock.execute("BEGIN IMMEDIATE")  # another writer holds the file: the commit waits
        assert recorder.submit(result(WEEK_MINUTES + 30, "failed"))
        checks.observed(KEY, finished_at(WEEK_MINUTES + 30))
        checks.measurement(KEY, wow, JOURNEY, NOW)  # asks; the read sees the 2 runs only
        read = checks._pending[KEY]  # the read that runs before the commit
        wait_until(read.done, 30, "the read before the commit")
        assert checks.measurement(KEY, wow, JOURNEY, NOW).text.startswith("no verdict: 2 runs")
        lock.execute("ROLLBACK")
        assert written.wait(30), "the recorder never wrote the run"
        wait_until(
            lambda: "succeeded 0% of runs" in checks.measurement(KEY, wow, JOURNEY, NOW).text,
            30,
            "the committed run read without waiting a minute",
        )
    finally:
        lock.close()
        checks.close()
        recorder.close()


def test_without_a_history_the_rule_says_so_and_never_judges(tmp_path: Path) -> None:
    wow = rule()
    checks = checks_on(None, wow)
    try:
        disabled = checks.measurement(KEY, wow, "guest-checkout", NOW)
        assert disabled.text.startswith(
            "no history: the run history is disabled (history.enabled: false when the agent"
        )
        assert (disabled.value, disabled.breached, disabled.recovered) == (None, False, False)
        missing = tmp_path / "gone" / "history.sqlite3"
        checks.configure(missing, {KEY: wow}, location=LOCATION)
        text = answer(checks, wow)
        assert text.startswith(f"no history: cannot read {missing} (")
        m = checks.measurement(KEY, wow, "guest-checkout", NOW)
        assert (m.value, m.breached, m.recovered, m.unknown) == (None, False, False, True)
        broken = tmp_path / "broken.sqlite3"
        broken.write_bytes(b"not a database, only some bytes" * 100)
        checks.configure(broken, {KEY: wow}, location=LOCATION)
        assert answer(checks, wow).startswith(f"no history: cannot read {broken} (")
    finally:
        checks.close()


def test_a_history_path_with_a_secret_is_redacted_in_the_answer(tmp_path: Path) -> None:
    """history.path: /data/${TENANT_TOKEN}/history.sqlite3 goes to /alerts and the log."""
    missing = tmp_path / SECRET / "history.sqlite3"
    checks = checks_on(missing, rule(), secrets=frozenset({SECRET}))
    try:
        text = answer(checks, rule())
        assert text.startswith("no history: cannot read ")
        assert SECRET not in text
        assert str(missing.parent.parent) in text  # the rest of the path still says where
    finally:
        checks.close()


def test_a_reload_keeps_the_answers_of_unchanged_rules(store: HistoryStore, path: Path) -> None:
    seed_week(store)
    seed_now(store, "PPFPFPFPFP")
    wow, other = rule(), rule(name="other")
    checks = WeekOverWeekChecks(monotonic=FakeMonotonic())
    checks.configure(path, {KEY: wow, "other/j": other}, location=LOCATION)
    try:
        assert "a 40% drop" in answer(checks, wow)
        changed = rule(name="other", week_over_week_drop_above=0.5)
        checks.configure(path, {KEY: wow, "other/j": changed}, location=LOCATION)
        # kept while it is read again: never "no verdict yet" in between
        assert "a 40% drop" in checks.measurement(KEY, wow, JOURNEY, NOW).text
        fresh = checks.measurement("other/j", changed, JOURNEY, NOW)
        assert (fresh.text, fresh.unknown) == ("no verdict yet: reading the history", True)
        checks.configure(path, {KEY: wow}, location="us-east")  # another place: read again
        assert checks.measurement(KEY, wow, JOURNEY, NOW).unknown
    finally:
        checks.close()


def test_close_stops_the_worker_thread_for_good(store: HistoryStore, path: Path) -> None:
    wow = rule()
    checks = checks_on(path, wow)
    answer(checks, wow)
    assert any(t.name.startswith("week-over-week") for t in threading.enumerate())
    checks.close()
    assert not any(t.name.startswith("week-over-week") for t in threading.enumerate())
    after = checks.measurement(KEY, wow, JOURNEY, NOW)  # a tick after stop: no new thread
    assert after.unknown
    assert not any(t.name.startswith("week-over-week") for t in threading.enumerate())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"window": None}, "week_over_week_drop_above needs a window, e.g. window: 15m"),
        ({"week_over_week_drop_above": 1.5}, "must be a fraction between 0 and 1 for a success"),
        ({"week_over_week_drop_above": 1}, "rate, not 1: 0.2 fires when it fell by more than 20%"),
        ({"week_over_week_drop_above": 0}, "must be above 0, not 0"),
        ({"week_over_week_drop_above": 0, "step": "pay"}, "must be above 0, not 0"),
        ({"window": "8d"}, "must be between 10s and 168h, got 192h"),  # the weeks would overlap
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


ENGINE_CONFIG = """
location: eu-west
storefronts:
  shop:
    extends: demo
    base_url: http://127.0.0.1:9
journeys:
  - journey: product-to-checkout
    name: guest-checkout
    storefront: shop
history:
  path: history.sqlite3
alerting:
  state_dir: state
  rules:
    - name: wow
      week_over_week_drop_above: 0.2
      window: 1h
      for: 5m
{more}
"""


def loaded_config(tmp_path: Path, more: str = "") -> LoadedConfig:
    return parse_config(ENGINE_CONFIG.format(more=more), "config.yaml", tmp_path, {})


def status(engine: AlertEngine) -> str:
    (alert,) = [a for a in engine.snapshot() if a["rule"] == "wow"]
    return str(alert["status"])


def engine_at(tmp_path: Path, clock: ManualClock) -> AlertEngine:
    """An engine with its state under ``tmp_path``, on the test's clock at location eu-west."""
    return AlertEngine(
        AlertStore(tmp_path / "state" / "alerts.json", keep_seconds=3600),
        Metrics(CollectorRegistry(), "eu-west"),
        clock=clock,
        monotonic=clock.monotonic,
    )


def tick(engine: AlertEngine, clock: ManualClock, seconds: float = 1.0) -> str:
    """Move the clock on and let the engine look, as the scheduler's tick does."""
    clock.now += seconds
    engine.tick()
    return status(engine)


def test_a_reload_keeps_a_pending_alert_waiting_and_it_fires_on_time(
    store: HistoryStore, tmp_path: Path
) -> None:
    """SIGHUP used to clear the answers: the next look had no verdict and a pending alert
    went back to ok, so a rule with for: never fired across reloads."""
    seed_week(store)
    seed_now(store, "PPFPFPFPFP")  # a 40% drop, judged at NOW
    clock = ManualClock(NOW)
    engine = engine_at(tmp_path, clock)
    engine.configure(loaded_config(tmp_path), None)
    try:
        wait_until(lambda: tick(engine, clock) == "pending", 30, "the alert pending")
        since = clock.now
        # the same file again, with a rule added: what serve does on SIGHUP
        more = "    - name: other\n      consecutive_failures: 3"
        engine.configure(loaded_config(tmp_path, more), None)
        assert tick(engine, clock) == "pending"
        assert tick(engine, clock, since + 299.0 - clock.now) == "pending"
        assert tick(engine, clock) == "firing"
        assert clock.now == since + 300.0
    finally:
        engine.close()


def test_an_unknown_look_leaves_a_pending_alert_and_too_few_runs_does_not() -> None:
    """A history not read yet (or unreadable) says nothing; too few runs is an answer, and
    a pending alert ends on it as with every other rule."""
    timing = Timing(for_=300, min_firing=0, min_resolved=0, repeat_interval=0)
    state = AlertState()
    state.advance(Measurement(0.4, True, False, "a 40% drop"), NOW, timing)
    assert state.status is AlertStatus.PENDING
    unread = Measurement(None, False, False, "no history: cannot read ...", unknown=True)
    assert state.advance(unread, NOW + 100, timing) is None
    assert (state.status, state.measurement) == (AlertStatus.PENDING, "a 40% drop")
    assert state.advance(Measurement(0.4, True, False, "a 40% drop"), NOW + 300, timing) == (
        Transition.FIRING
    )
    pending = AlertState()
    pending.advance(Measurement(0.4, True, False, "a 40% drop"), NOW, timing)
    pending.advance(Measurement(None, False, False, "no verdict: 2 runs ..."), NOW + 1, timing)
    assert pending.status is AlertStatus.OK


def test_stopping_alerting_stops_the_reader_thread(store: HistoryStore, tmp_path: Path) -> None:
    seed_week(store)
    seed_now(store, "PPPPPP")
    alerting = Alerting(
        loaded_config(tmp_path),
        Metrics(CollectorRegistry(), "eu-west"),
        None,
        clock=ManualClock(NOW),
    )

    def reading() -> bool:
        return any(t.name.startswith("week-over-week") for t in threading.enumerate())

    async def scenario() -> None:
        await alerting.start()
        alerting.tick()  # the first look asks the reader thread
        assert reading()
        await alerting.stop()

    asyncio.run(scenario())
    assert not reading()


def test_history_enabled_is_taken_at_start_as_the_recorder_takes_it(
    store: HistoryStore, tmp_path: Path
) -> None:
    """serve starts the recorder only when history.enabled is true at start; a reload that
    turns it on must not have the rule read a file nobody writes, nor one turning it off
    have the rule say "disabled" while the recorder goes on writing."""
    seed_week(store)
    seed_now(store, "PPFPFPFPFP")
    off = ENGINE_CONFIG.replace("history:\n  path: history.sqlite3", "history:\n  enabled: false")
    off = off.replace(
        "    - name: wow\n      week_over_week_drop_above: 0.2\n      window: 1h\n      for: 5m\n",
        "    - name: other\n      consecutive_failures: 3\n",
    )
    clock = ManualClock(NOW)
    engine = engine_at(tmp_path, clock)
    engine.configure(parse_config(off.format(more=""), "config.yaml", tmp_path, {}), None)
    try:
        engine.configure(loaded_config(tmp_path), None)  # reloaded: on, with the rule
        tick(engine, clock)
        (alert,) = [a for a in engine.snapshot() if a["rule"] == "wow"]
        assert alert["last_check"].startswith("no history: the run history is disabled")
    finally:
        engine.close()
