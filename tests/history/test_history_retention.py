"""Retention: runs older than ``retention_days`` go, then the oldest until the file fits in
``max_megabytes``; pruning runs when the recorder opens the file and then hourly, not per run."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from checkout_monitor.history import HistoryRecorder, HistoryStore, Retention
from support.history_seed import T0, result

DAY = 86400.0
NOW = (T0 + timedelta(days=40)).timestamp()


def counts(path: Path) -> tuple[int, int]:
    db = sqlite3.connect(path)
    try:
        runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
        steps = db.execute("SELECT count(*) FROM steps").fetchone()[0]
    finally:
        db.close()
    return runs, steps


def test_runs_older_than_the_retention_go_with_their_steps(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path)
    for day in range(40):  # one run a day, from T0 to T0 + 39 days
        store.record(result(day * 1440, "failed" if day % 3 else "passed"), source="serve")
    deleted = store.prune(Retention(days=30, max_bytes=10**9), now=NOW)
    store.close()
    assert deleted == 10  # the first ten days finished more than 30 days before NOW
    assert counts(path) == (30, 60)
    db = sqlite3.connect(path)
    oldest = db.execute("SELECT min(finished_at) FROM runs").fetchone()[0]
    assert oldest >= NOW - 30 * DAY
    orphans = "SELECT count(*) FROM steps WHERE run_id NOT IN (SELECT id FROM runs)"
    assert db.execute(orphans).fetchone() == (0,)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()


def test_a_big_prune_goes_in_batches_with_a_checkpoint_between(tmp_path: Path) -> None:
    """One transaction per batch: the WAL never holds every deleted page at once."""
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path)
    for day in range(40):
        store.record(result(day * 1440), source="serve")
    statements: list[str] = []
    store._connection.set_trace_callback(statements.append)  # what SQLite was asked to run
    deleted = store.prune(Retention(days=30, max_bytes=10**9), now=NOW, batch_runs=4)
    store.close()
    assert deleted == 10 and counts(path) == (30, 60)
    said = [s.split()[0] if s.startswith(("BEGIN", "COMMIT")) else s for s in statements]
    transactions = [s for s in said if s in ("BEGIN", "COMMIT", "PRAGMA wal_checkpoint(PASSIVE)")]
    # 4 + 4 + 2 runs: a checkpoint after each full batch
    assert transactions == ["BEGIN", "COMMIT", "PRAGMA wal_checkpoint(PASSIVE)"] * 2 + [
        "BEGIN",
        "COMMIT",
    ]


def test_the_oldest_runs_go_until_the_file_fits_its_size(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path)
    for minute in range(600):  # ~1.5 KB of message each: about 1 MB in all
        store.record(result(minute, "failed", message=f"{minute} " + "x" * 1500), source="serve")
    limit = 256 * 1024
    assert store.used_bytes() > 3 * limit
    deleted = store.prune(Retention(days=3650, max_bytes=limit), now=NOW)
    assert store.used_bytes() <= limit
    # the freed pages went back to the disk (incremental vacuum), the WAL was truncated
    assert path.stat().st_size <= limit
    assert Path(f"{path}-wal").stat().st_size == 0
    store.close()
    runs, _ = counts(path)
    assert deleted + runs == 600 and runs > 50
    db = sqlite3.connect(path)
    newest = db.execute("SELECT max(started_at) FROM runs").fetchone()[0]
    assert newest == (T0 + timedelta(minutes=599)).timestamp()  # the newest are kept
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()


def test_the_recorder_prunes_on_open_then_hourly_not_per_run(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    seeding = HistoryStore(path)
    seeding.record(result(0), source="serve")  # 40 days before NOW: too old
    now = [NOW]
    recorder = HistoryRecorder(
        path, Retention(days=30, max_bytes=10**9), source="serve", clock=lambda: now[0]
    )
    assert recorder.record(result(40 * 1440))
    assert counts(path)[0] == 1  # the old run went at the first record
    seeding.record(result(1), source="serve")  # another old one, just after
    now[0] += 3000
    assert recorder.record(result(40 * 1440 + 1))
    assert counts(path)[0] == 3  # within the hour: not pruned again
    now[0] += 601
    assert recorder.record(result(40 * 1440 + 2))
    assert counts(path)[0] == 3  # an hour on: the old one went, the new one came
    recorder.close()
    seeding.close()
