"""A broken run history costs the history, never the run: a corrupt file, a locked database,
a read-only or full disk each make ``record`` return False, are logged once, counted in the
metric by reason, and shown as ``problem``; the recorder heals once the file is fixed."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from checkout_monitor.history import WRITE_ERROR_REASONS, HistoryRecorder, Retention
from checkout_monitor.metrics.families import Metrics
from support.cli_support import REPO
from support.history_seed import result
from support.mount_faults import in_namespace, mounted_here, skip_unless_mountable

RETENTION = Retention(days=3650, max_bytes=10**9)  # the seeded runs are weeks old
NOT_A_DATABASE = b"these are not the pages of a SQLite database\n" * 200


def errors(registry: CollectorRegistry, reason: str) -> float | None:
    return registry.get_sample_value(
        "checkout_history_write_errors_total", {"reason": reason, "location": "lab"}
    )


def writable(registry: CollectorRegistry) -> float | None:
    return registry.get_sample_value("checkout_history_writable", {"location": "lab"})


def recorder_with_metrics(path: Path) -> tuple[HistoryRecorder, CollectorRegistry]:
    registry = CollectorRegistry()
    on_write = Metrics(registry, "lab").watch_history()
    return HistoryRecorder(path, RETENTION, source="serve", on_write=on_write), registry


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
    recorder, registry = recorder_with_metrics(path)
    assert recorder.record(result(0))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer that never lets go (5 s busy timeout)
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


def test_a_folder_that_cannot_be_made_costs_only_the_history(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state folder should be")
    recorder, registry = recorder_with_metrics(blocker / "history.sqlite3")
    assert not recorder.record(result(0))
    assert errors(registry, "other") == 1
    assert recorder.problem is not None and str(blocker) in recorder.problem


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
    ],
)
def test_a_read_only_or_full_disk(fault: str, reason: str, error: str, tmp_path: Path) -> None:
    """In a process of its own whose history folder is a read-only or full tmpfs."""
    skip_unless_mountable(tmp_path / "probe")
    folder = tmp_path / "state"
    folder.mkdir()
    path = folder / "history.sqlite3"
    done = subprocess.run(
        in_namespace(fault, folder, [sys.executable, "-c", RECORD_THREE_RUNS, str(path)]),
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
    assert not mounted_here(folder)
    assert list(folder.iterdir()) == []  # nothing reached the real folder
