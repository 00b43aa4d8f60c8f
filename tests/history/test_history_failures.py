"""A broken run history costs the history, never the run: a corrupt file, a locked database,
a read-only or full disk, a file from a newer release, even a bug, each make ``record``
return False, are logged once, counted in the metric by reason, and shown as ``problem``; the
recorder heals once the file is fixed. ``submit`` (serve) never waits for the database."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from checkout_monitor.config.loader import load_config
from checkout_monitor.history import SCHEMA_VERSION, WRITE_ERROR_REASONS, HistoryRecorder, Retention
from checkout_monitor.metrics.families import Metrics
from support.cli_support import REPO
from support.history_seed import result
from support.mount_faults import in_namespace, mounted_here, skip_unless_mountable
from support.prometheus_servers import wait_until

RETENTION = Retention(days=3650, max_bytes=10**9)  # the seeded runs are weeks old
NOT_A_DATABASE = b"these are not the pages of a SQLite database\n" * 200


def errors(registry: CollectorRegistry, reason: str) -> float | None:
    return registry.get_sample_value(
        "checkout_history_write_errors_total", {"reason": reason, "location": "lab"}
    )


def writable(registry: CollectorRegistry) -> float | None:
    return registry.get_sample_value("checkout_history_writable", {"location": "lab"})


def recorder_with_metrics(
    path: Path, retention: Retention = RETENTION, **options: Any
) -> tuple[HistoryRecorder, CollectorRegistry]:
    registry = CollectorRegistry()
    on_write = Metrics(registry, "lab").watch_history()
    recorder = HistoryRecorder(path, retention, source="serve", on_write=on_write, **options)
    return recorder, registry


def runs(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT count(*) FROM runs").fetchone()[0])
    finally:
        db.close()


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING]


def test_the_series_show_from_the_start(tmp_path: Path) -> None:
    _, registry = recorder_with_metrics(tmp_path / "history.sqlite3")
    assert writable(registry) == 1
    for reason in WRITE_ERROR_REASONS:
        assert errors(registry, reason) == 0


def test_a_corrupt_file_is_logged_once_counted_per_run_and_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(NOT_A_DATABASE)
    recorder, registry = recorder_with_metrics(path)
    with caplog.at_level(logging.INFO, logger="checkout_monitor.history"):
        assert [recorder.record(result(minute)) for minute in range(3)] == [False] * 3
    assert errors(registry, "corrupt") == 3
    assert writable(registry) == 0
    assert recorder.problem == (
        f"run history not recorded in {path}: the file is not a usable SQLite database: move "
        "it aside and a new one starts (corrupt: file is not a database); monitoring goes on "
        "without it"
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [recorder.problem]  # once, not per run
    assert path.read_bytes() == NOT_A_DATABASE  # someone may want to look at it

    path.rename(tmp_path / "history.broken")  # what the problem says to do
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="checkout_monitor.history"):
        assert recorder.record(result(10))
    assert recorder.problem is None
    assert writable(registry) == 1
    assert f"run history: recording in {path} again" in caplog.text
    recorder.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    db.close()


def test_a_database_locked_past_the_busy_timeout_loses_that_run_only(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    recorder, registry = recorder_with_metrics(path, busy_timeout_ms=100)
    assert recorder.record(result(0))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer that never lets go (0.1 s busy timeout)
    try:
        assert not recorder.record(result(1))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert errors(registry, "locked") == 1
    assert recorder.problem is not None and "(locked: database is locked)" in recorder.problem
    assert recorder.record(result(2))
    recorder.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM runs").fetchone() == (2,)
    db.close()


def test_a_writer_waits_for_a_short_lock_instead_of_losing_the_run(tmp_path: Path) -> None:
    """What lets serve and a run-smoke --history write one file: the busy timeout."""
    path = tmp_path / "history.sqlite3"
    recorder, registry = recorder_with_metrics(path)
    assert recorder.record(result(0))
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # the other writer's transaction, let go of soon
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        assert recorder.record(result(1))
    finally:
        release.join()
        holder.close()
    assert errors(registry, "locked") == 0
    recorder.close()


@pytest.mark.parametrize("below", ["history.sqlite3", "sub/history.sqlite3"])  # EEXIST, ENOTDIR
def test_a_folder_that_cannot_be_made_costs_only_the_history(below: str, tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state folder should be")
    recorder, registry = recorder_with_metrics(blocker / below)
    assert not recorder.record(result(0))
    assert errors(registry, "unwritable") == 1
    assert recorder.problem is not None and str(blocker) in recorder.problem
    assert "move aside a file that stands where the folder should be" in recorder.problem


def test_a_file_from_a_newer_release_is_too_new_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    recorder, registry = recorder_with_metrics(path)
    assert recorder.record(result(0))
    recorder.close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    assert not recorder.record(result(1))
    assert errors(registry, "too_new") == 1
    assert writable(registry) == 0
    assert recorder.problem is not None
    assert "a newer checkout-monitor wrote it: use that release, or another history.path" in (
        recorder.problem
    )
    assert runs(path) == 1


def test_a_failed_prune_after_a_recorded_run_still_counts_it_recorded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The run is in the file: no error counted, no problem shown, pruning logged once."""
    path = tmp_path / "history.sqlite3"
    now = [0.0]
    # a retention of one day at the seeded runs' time + 10 days: every earlier run is due
    recorder, registry = recorder_with_metrics(
        path, Retention(days=1, max_bytes=10**9), clock=lambda: now[0]
    )
    now[0] = result(0).started_at.timestamp() + 10 * 86400
    seeding = HistoryRecorder(path, RETENTION, source="serve")
    assert seeding.record(result(0))
    seeding.close()
    db = sqlite3.connect(path)
    db.execute(  # a real refusal by SQLite, from the file itself
        "CREATE TRIGGER keep_runs BEFORE DELETE ON runs "
        "BEGIN SELECT RAISE(ABORT, 'deleting refused for the test'); END"
    )
    db.commit()
    db.close()
    with caplog.at_level(logging.INFO, logger="checkout_monitor.history"):
        assert recorder.record(result(1))
        now[0] += 7200  # pruning due again: fails again, said once
        assert recorder.record(result(2))
    assert recorder.problem is None
    assert writable(registry) == 1
    assert all(errors(registry, reason) == 0 for reason in WRITE_ERROR_REASONS)
    assert runs(path) == 3  # nothing pruned, nothing lost
    said = [r.getMessage() for r in warnings(caplog)]
    assert len(said) == 1, said
    assert said[0].startswith(f"run history: pruning failed in {path} (other: deleting refused")
    recorder.close()


def test_a_bug_while_recording_is_counted_logged_once_with_its_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Not only sqlite3.Error and OSError: whatever recording raises costs that run only."""
    path = tmp_path / "history.sqlite3"
    recorder, registry = recorder_with_metrics(path)
    broken = replace(result(0), started_at="2026-11-02T09:00")  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="checkout_monitor.history"):
        assert [recorder.record(broken) for _ in range(2)] == [False, False]
    assert errors(registry, "other") == 2
    assert writable(registry) == 0
    assert recorder.problem is not None and "(other: 'str' object has no attribute" in (
        recorder.problem
    )
    logged = warnings(caplog)
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert "Traceback" in caplog.text and "AttributeError" in caplog.text
    assert recorder.record(result(1))  # the next good run is recorded
    assert writable(registry) == 1
    recorder.close()
    assert runs(path) == 1


def hold_the_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_submit_never_waits_and_a_full_queue_loses_runs_it_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The writer waits on a locked database (a long busy timeout); submit returns at once,
    and past ``queue_size`` waiting runs each further run is counted as queue_full."""
    path = tmp_path / "history.sqlite3"
    recorder, registry = recorder_with_metrics(path, busy_timeout_ms=600_000, queue_size=1)
    assert recorder.record(result(0))
    holder = hold_the_write_lock(path)
    try:
        with caplog.at_level(logging.INFO, logger="checkout_monitor.history"):
            # at most one run in the writer (waiting on the lock) and one in the queue
            submitted = [recorder.submit(result(minute)) for minute in range(1, 5)]
        assert submitted[0] and not submitted[-1]
        lost = submitted.count(False)
        assert errors(registry, "queue_full") == lost
        assert writable(registry) == 0
        assert recorder.problem is not None and "(queue_full: 1 runs already wait" in (
            recorder.problem
        )
        assert len(warnings(caplog)) == 1  # said once, counted per run
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    recorder.close()  # writes what is queued, then stops the writer
    assert runs(path) == 1 + submitted.count(True)
    assert writable(registry) == 1 and recorder.problem is None


def test_a_reload_never_waits_for_a_write_that_waits_on_the_database(tmp_path: Path) -> None:
    """serve's loop calls configure() on SIGHUP: it must return while the writer is stuck
    on a locked database; the new settings apply from the writer's next run."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "storefronts: {shop: {extends: demo, base_url: 'http://127.0.0.1:8080'}}\n"
        "journeys: [{journey: product-to-checkout, storefront: shop}]\n"
        "history: {path: moved.sqlite3, retention_days: 3650}\n",
        encoding="utf-8",
    )
    path = tmp_path / "history.sqlite3"
    recorder, _ = recorder_with_metrics(path, busy_timeout_ms=600_000)
    assert recorder.record(result(0))
    holder = hold_the_write_lock(path)
    try:
        assert recorder.submit(result(1))
        # the writer has the run and waits on the lock (holding the recorder's own lock)
        wait_until(
            lambda: recorder._lock.locked() and recorder._queue.empty(), 60, "the writer waiting"
        )
        reload = threading.Thread(target=recorder.configure, args=(load_config(config),))
        reload.start()
        reload.join(60)  # a liveness bound, not a timing: it would otherwise hang 10 min
        assert not reload.is_alive(), "configure() waited for the write"
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert recorder.submit(result(2))
    recorder.close()
    assert (runs(path), runs(tmp_path / "moved.sqlite3")) == (2, 1)


RECORD_THREE_RUNS = """
import json, sys
from pathlib import Path
from checkout_monitor.history import HistoryRecorder, Retention
from support.history_seed import result
reasons = []
recorder = HistoryRecorder(
    Path(sys.argv[1]), Retention(30, 10**9), source="serve",
    on_write=lambda ok, reason: reasons.append(reason),
)
recorded = [recorder.record(result(minute)) for minute in range(3)]
print(json.dumps({"recorded": recorded, "reasons": reasons, "problem": recorder.problem}))
"""


@pytest.mark.parametrize(
    ("fault", "reason", "error"),
    [
        ("read_only", "unwritable", "unable to open database file"),
        ("disk_full", "disk_full", "database or disk is full"),
        ("read_only_file", "unwritable", "attempt to write a readonly database"),  # READONLY
    ],
)
def test_a_read_only_or_full_disk(fault: str, reason: str, error: str, tmp_path: Path) -> None:
    """In a process of its own whose history folder is a read-only or full tmpfs, or whose
    existing history file is read-only (a bind mount) in a writable folder."""
    skip_unless_mountable(tmp_path / "probe")
    folder = tmp_path / "state"
    folder.mkdir()
    path = folder / "history.sqlite3"
    target = folder
    if fault == "read_only_file":
        seeding = HistoryRecorder(path, RETENTION, source="serve")
        assert seeding.record(result(0))
        seeding.close()
        target = path
    done = subprocess.run(
        in_namespace(fault, target, [sys.executable, "-c", RECORD_THREE_RUNS, str(path)]),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO / 'tests'}"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["recorded"] == [False, False, False]
    assert outcome["reasons"] == [reason] * 3
    assert f"({reason}: {error})" in outcome["problem"]
    assert not mounted_here(folder) and not mounted_here(path)
    if fault == "read_only_file":
        assert runs(path) == 1  # the file as it was
    else:
        assert list(folder.iterdir()) == []  # nothing reached the real folder
