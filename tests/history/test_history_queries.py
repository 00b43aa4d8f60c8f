"""The run history's schema and queries on a seeded database: runs at chosen timestamps,
recorded through the real writer into a real file, read back through the reader."""

from __future__ import annotations

import math
import random
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.history import SCHEMA_VERSION, HistoryReader, HistoryStore
from support.history_seed import SECRET, T0, path, result, store

__all__ = ["path", "store"]  # the history fixtures (support/history_seed.py)


def seed(store: HistoryStore, outcomes: str, **kwargs: object) -> None:
    """One run a minute from T0: P passed, F failed, S skipped."""
    names = {"P": "passed", "F": "failed", "S": "skipped"}
    for minute, letter in enumerate(outcomes):
        store.record(result(minute, names[letter], **kwargs), source="serve")  # type: ignore[arg-type]


def test_a_new_file_has_the_documented_schema_in_wal_mode(store: HistoryStore, path: Path) -> None:
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # incremental
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    columns = {
        table: [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        for table in ("runs", "steps")
    }
    assert columns == {
        "runs": [
            "id", "journey", "storefront", "location", "started_at", "finished_at", "status",
            "ok", "duration_seconds", "attempt", "failure_class", "failure_kind", "failed_step",
            "message", "evidence_folder", "release", "source",
        ],
        "steps": ["run_id", "position", "name", "status", "duration_seconds", "failure_kind"],
    }  # fmt: skip
    documented = (Path(__file__).parents[2] / "docs" / "history.md").read_text()
    for table, names in columns.items():
        for name in names:
            assert f"| `{name}` |" in documented, (
                f"docs/history.md does not describe {table}.{name}"
            )
    indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"runs_by_journey", "runs_by_time"} <= indexes
    db.close()


def test_opening_again_keeps_the_runs_and_migrates_nothing_twice(
    store: HistoryStore, path: Path
) -> None:
    seed(store, "PF")
    store.close()
    again = HistoryStore(path)
    try:
        db = sqlite3.connect(path)
        assert db.execute("SELECT count(*) FROM runs").fetchone() == (2,)
        assert db.execute("SELECT count(*) FROM schema_version").fetchone() == (1,)
        db.close()
    finally:
        again.close()


def test_a_file_from_a_newer_release_is_refused_and_left_alone(path: Path) -> None:
    HistoryStore(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(sqlite3.DatabaseError, match="written by a newer checkout-monitor"):
        HistoryStore(path)
    with pytest.raises(sqlite3.DatabaseError, match="written by a newer checkout-monitor"):
        HistoryReader(path)
    db = sqlite3.connect(path)
    assert db.execute("SELECT version FROM schema_version").fetchall() == [
        (SCHEMA_VERSION,),
        (SCHEMA_VERSION + 1,),
    ]
    db.close()


def test_a_run_and_its_steps_are_one_transaction(store: HistoryStore, path: Path) -> None:
    """A step row that cannot be written takes its run row with it: never half a run."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TRIGGER refuse_pay BEFORE INSERT ON steps WHEN NEW.name = 'pay' "
        "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"
    )
    db.commit()
    with pytest.raises(sqlite3.IntegrityError, match="refused for the test"):
        store.record(result(0), source="serve")
    assert db.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM steps").fetchone() == (0,)
    db.execute("DROP TRIGGER refuse_pay")
    db.commit()
    store.record(result(1), source="serve")  # the writer is usable after the rollback
    assert db.execute("SELECT count(*) FROM steps").fetchone() == (2,)
    db.close()


def test_a_run_is_recorded_whole_with_secrets_redacted(store: HistoryStore, path: Path) -> None:
    failed = result(3, "failed", message=f"declined: token {SECRET} refused")
    run_id = store.record(failed, source="run-smoke", release="v1.4.2", secrets={SECRET})
    run = HistoryReader(path).run(run_id)
    assert run is not None
    assert (run.journey, run.storefront, run.location, run.source, run.release) == (
        "guest-checkout", "shop", "eu-west", "run-smoke", "v1.4.2",
    )  # fmt: skip
    assert run.started_at == T0 + timedelta(minutes=3)
    assert run.finished_at == run.started_at + timedelta(seconds=3)
    assert (run.status, run.ok, run.duration_seconds, run.attempt) == ("failed", False, 3.0, 1)
    assert (run.failure_class, run.failure_kind, run.failed_step) == (
        "site", "payment_declined", "pay",
    )  # fmt: skip
    assert SECRET not in run.message
    assert run.message.startswith("declined: token ") and run.message.endswith(" refused")
    assert run.evidence_folder == "run-3/guest-checkout/attempt-1"
    steps = [(s.position, s.name, s.status, s.duration_seconds, s.failure_kind) for s in run.steps]
    assert steps == [
        (0, "open product", "passed", 1.0, None),
        (1, "pay", "failed", 2.0, "payment_declined"),
    ]
    raw = path.read_bytes() + Path(f"{path}-wal").read_bytes()
    assert SECRET.encode() not in raw


def test_step_names_with_a_secret_are_redacted_in_the_file(store: HistoryStore, path: Path) -> None:
    """A step named after a secret ("pay with ${TOKEN}"): its row and the run's failed_step."""
    failed = result(3, "failed")
    steps = tuple(replace(step, name=f"{step.name} with {SECRET}") for step in failed.steps)
    run_id = store.record(replace(failed, steps=steps), source="serve", secrets={SECRET})
    run = HistoryReader(path).run(run_id)
    assert run is not None
    assert run.failed_step is not None and run.failed_step.startswith("pay with ")
    assert SECRET not in run.failed_step
    names = [step.name for step in run.steps]
    assert [name.split(" with ")[0] for name in names] == ["open product", "pay"]
    assert not any(SECRET in name for name in names)
    raw = path.read_bytes() + Path(f"{path}-wal").read_bytes()
    assert SECRET.encode() not in raw


def test_journeys_and_the_latest_run_of_each(store: HistoryStore, path: Path) -> None:
    seed(store, "PPF")
    seed(store, "FP", journey="discounts")
    reader = HistoryReader(path)
    assert reader.journeys() == ["discounts", "guest-checkout"]
    latest = reader.latest_runs()
    assert (latest["guest-checkout"].status, latest["guest-checkout"].started_at) == (
        "failed", T0 + timedelta(minutes=2),
    )  # fmt: skip
    assert (latest["discounts"].status, latest["discounts"].started_at) == (
        "passed", T0 + timedelta(minutes=1),
    )  # fmt: skip
    assert latest["discounts"].steps == ()  # steps only with run()


def test_runs_in_a_time_range(store: HistoryStore, path: Path) -> None:
    seed(store, "PFPFP")
    reader = HistoryReader(path)
    # finished_at = start + 3 s: minutes 1, 2 and 3 finish in [T0+1m, T0+3m+30s)
    runs = reader.runs("guest-checkout", T0 + timedelta(minutes=1), T0 + timedelta(minutes=3.5))
    assert [(r.started_at - T0, r.status) for r in runs] == [
        (timedelta(minutes=1), "failed"),
        (timedelta(minutes=2), "passed"),
        (timedelta(minutes=3), "failed"),
    ]
    assert len(reader.runs("guest-checkout", T0)) == 5
    assert reader.runs("nobody", T0) == []
    with pytest.raises(ValueError, match="no time zone"):
        reader.runs("guest-checkout", datetime(2026, 11, 2))


def test_runs_past_the_limit_keep_the_newest(store: HistoryStore, path: Path) -> None:
    """A window with more runs than ``limit``: its start is cut, never the latest runs."""
    seed(store, "PFPFP")
    runs = HistoryReader(path).runs("guest-checkout", T0, limit=2)
    assert [r.started_at - T0 for r in runs] == [timedelta(minutes=3), timedelta(minutes=4)]


def test_every_query_can_take_one_source_and_one_location(store: HistoryStore, path: Path) -> None:
    """run-smoke runs written into the agent's file, from another place, are left out."""
    seed(store, "PPFP")  # serve, eu-west: minutes 0-3
    for minute in (4, 5):  # run-smoke's failures, later, in CI
        ci = replace(result(minute, "failed", pay=30.0), location="ci")
        store.record(ci, source="run-smoke")
    reader = HistoryReader(path)
    since = T0 - timedelta(hours=1)
    assert reader.success_rate("guest-checkout", since).runs == 6
    for scope in ({"source": "serve"}, {"location": "eu-west"}):
        rate = reader.success_rate("guest-checkout", since, **scope)
        assert (rate.passed, rate.failed) == (3, 1)
        assert [b.maximum for b in reader.durations("guest-checkout", since, **scope)] == [3.0]
        assert [
            b.maximum for b in reader.durations("guest-checkout", since, step="pay", **scope)
        ] == [2.0]
        incidents = reader.incidents("guest-checkout", since, **scope)
        assert [(i.runs_failed, i.ongoing) for i in incidents] == [(1, False)]
        assert [r.started_at - T0 for r in reader.runs("guest-checkout", since, **scope)] == [
            timedelta(minutes=minute) for minute in range(4)
        ]
        latest = reader.latest_runs(**scope)["guest-checkout"]
        assert (latest.source, latest.location) == ("serve", "eu-west")
        failure = reader.latest_failure("guest-checkout", **scope)
        assert failure is not None and failure.started_at == T0 + timedelta(minutes=2)
        assert reader.latest_failure(**scope) == failure
        assert reader.step_names("guest-checkout", since, **scope) == ["open product", "pay"]
    assert reader.step_names("guest-checkout", since, location="nowhere") == []
    ci = reader.runs("guest-checkout", since, source="run-smoke", location="ci")
    assert [(r.source, r.location) for r in ci] == [("run-smoke", "ci")] * 2
    assert reader.runs("guest-checkout", since, source="run-smoke", location="eu-west") == []
    assert [i.runs_failed for i in reader.incidents("guest-checkout", since)] == [1, 2]


def test_success_rate_leaves_skipped_runs_out_and_can_count_only_some_classes(
    store: HistoryStore, path: Path
) -> None:
    seed(store, "PPPFSP")  # 4 passed, 1 failed (site), 1 skipped
    store.record(result(10, "failed", kind=FailureKind.BROWSER_CRASH), source="serve")
    reader = HistoryReader(path)
    rate = reader.success_rate("guest-checkout", T0)
    assert (rate.passed, rate.failed, rate.runs, rate.rate) == (4, 2, 6, pytest.approx(4 / 6))
    site = reader.success_rate("guest-checkout", T0, failure_classes={"site"})
    assert (site.passed, site.failed) == (4, 1)  # the browser crash was the monitor's
    assert reader.success_rate("guest-checkout", T0 + timedelta(days=1)).rate is None


def test_week_over_week_success_rates(store: HistoryStore, path: Path) -> None:
    for day in range(14):  # last week every run passed; this week every third failed
        for hour in range(3):
            failed = day >= 7 and hour == 0
            run = result(day * 1440 + hour * 60, "failed" if failed else "passed")
            store.record(run, source="serve")
    reader = HistoryReader(path)
    week = timedelta(days=7)
    earlier = reader.success_rate("guest-checkout", T0, T0 + week)
    later = reader.success_rate("guest-checkout", T0 + week, T0 + 2 * week)
    assert (earlier.runs, earlier.rate) == (21, 1.0)
    assert (later.runs, later.rate) == (21, pytest.approx(2 / 3))


def test_durations_per_bucket_for_the_journey_and_for_one_step(
    store: HistoryStore, path: Path
) -> None:
    # bucket of 10 minutes from T0: pay takes 1..10 s in the first, 20 s in the second
    for minute in range(10):
        store.record(result(minute, pay=float(minute + 1)), source="serve")
    store.record(result(12, pay=20.0), source="serve")
    store.record(result(13, "skipped"), source="serve")  # measured nothing: left out
    reader = HistoryReader(path)
    pay = reader.durations("guest-checkout", T0, bucket_seconds=600, step="pay")
    assert [(b.start, b.count, b.average, b.p95, b.maximum) for b in pay] == [
        (T0, 10, 5.5, 10.0, 10.0),
        (T0 + timedelta(minutes=10), 1, 20.0, 20.0, 20.0),
    ]
    journey = reader.durations("guest-checkout", T0, bucket_seconds=600)
    assert [(b.count, b.average, b.maximum) for b in journey] == [(10, 6.5, 11.0), (1, 21.0, 21.0)]
    assert reader.step_names("guest-checkout", T0) == ["open product", "pay"]


def test_p95_is_the_nearest_rank(store: HistoryStore, path: Path) -> None:
    for minute in range(40):  # pay: 1..40 s, one bucket
        store.record(result(minute, pay=float(minute + 1)), source="serve")
    (bucket,) = HistoryReader(path).durations(
        "guest-checkout", T0, bucket_seconds=86400, step="pay"
    )
    assert (bucket.count, bucket.p95) == (40, 38.0)


def test_incidents_group_consecutive_failures(store: HistoryStore, path: Path) -> None:
    store.record(result(0, "passed"), source="serve")
    store.record(result(1, "failed", message="first"), source="serve")
    store.record(result(2, "skipped"), source="serve")  # neither ends nor extends it
    store.record(
        result(3, "failed", kind=FailureKind.PAYMENT_PROVIDER_DOWN, message="second"),
        source="serve",
    )
    store.record(result(4, "passed"), source="serve")
    store.record(result(5, "failed", message="still"), source="serve")
    reader = HistoryReader(path)
    first, ongoing = reader.incidents("guest-checkout", T0)
    assert first.started_at == T0 + timedelta(minutes=1)
    assert first.ended_at == T0 + timedelta(minutes=4, seconds=3)  # the pass that ended it
    assert (first.runs_failed, first.failure_kinds) == (
        2, ("payment_declined", "payment_provider_down"),
    )  # fmt: skip
    assert (first.last_message, first.last_evidence_folder) == (
        "second", "run-3/guest-checkout/attempt-1",
    )  # fmt: skip
    assert not first.ongoing
    assert ongoing.ongoing and ongoing.runs_failed == 1 and ongoing.last_message == "still"
    # an incident going on at the window's start is reported whole
    (whole, _) = reader.incidents("guest-checkout", T0 + timedelta(minutes=3, seconds=30))
    assert (whole.started_at, whole.runs_failed) == (T0 + timedelta(minutes=1), 2)
    assert reader.incidents("guest-checkout", T0, T0 + timedelta(minutes=1)) == []


def test_the_latest_failed_run_with_its_evidence(store: HistoryStore, path: Path) -> None:
    reader = HistoryReader(path)
    assert reader.latest_failure() is None
    seed(store, "PFFP")
    store.record(result(10, "failed", journey="discounts"), source="serve")
    latest = reader.latest_failure("guest-checkout")
    assert latest is not None and latest.evidence_folder == "run-2/guest-checkout/attempt-1"
    anywhere = reader.latest_failure()
    assert anywhere is not None and anywhere.journey == "discounts"


def test_the_reader_sees_runs_recorded_after_it_opened(store: HistoryStore, path: Path) -> None:
    reader = HistoryReader(path)
    seed(store, "P")
    assert len(reader.runs("guest-checkout", T0)) == 1
    store.record(result(5), source="serve")
    assert len(reader.runs("guest-checkout", T0)) == 2


def test_a_missing_file_is_an_error_for_the_reader_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite3"
    with pytest.raises(sqlite3.OperationalError):
        HistoryReader(missing)
    assert not missing.exists()


def test_durations_and_incidents_match_a_plain_reading_of_the_runs(
    store: HistoryStore, path: Path
) -> None:
    """Buckets and incidents are computed in SQL (a month of runs never reaches Python):
    checked against the same rules applied in Python to a random history."""
    rng = random.Random(7)
    runs = []  # (minute, outcome, pay seconds)
    for minute in range(120):
        outcome = rng.choice(["passed"] * 5 + ["failed"] * 3 + ["skipped"])
        pay = round(rng.uniform(0.5, 9.5), 3)
        runs.append((minute, outcome, pay))
        store.record(result(minute, outcome, pay=pay), source="serve")
    reader = HistoryReader(path)

    expected: dict[int, list[float]] = {}
    for minute, outcome, pay in runs:
        if outcome != "skipped":  # one run a minute from T0, pay its last step: 7-min buckets
            finished = (T0 + timedelta(minutes=minute, seconds=1.0 + pay)).timestamp()
            expected.setdefault(math.floor(finished / 420), []).append(pay)
    buckets = reader.durations("guest-checkout", T0, bucket_seconds=420, step="pay")
    assert [(b.start.timestamp(), b.count, b.p95, b.maximum) for b in buckets] == [
        (index * 420.0, len(pays), sorted(pays)[math.ceil(0.95 * len(pays)) - 1], max(pays))
        for index, pays in sorted(expected.items())
    ]
    assert [b.average for b in buckets] == [
        pytest.approx(sum(pays) / len(pays)) for _, pays in sorted(expected.items())
    ]

    streaks: list[tuple[int, int, bool]] = []  # (first failed minute, runs failed, ended)
    failed: list[int] = []
    for minute, outcome, _ in runs:
        if outcome == "failed":
            failed.append(minute)
        elif outcome == "passed" and failed:
            streaks.append((failed[0], len(failed), True))
            failed = []
    if failed:
        streaks.append((failed[0], len(failed), False))
    incidents = reader.incidents("guest-checkout", T0)
    assert [(i.started_at, i.runs_failed, not i.ongoing) for i in incidents] == [
        (T0 + timedelta(minutes=first), count, ended) for first, count, ended in streaks
    ]
    assert len(streaks) > 10
