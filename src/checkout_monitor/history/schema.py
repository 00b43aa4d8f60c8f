"""The history database's tables, and the one place a database is opened and brought up to date.

Version 1 is below. A later release adds its change as one more entry of ``MIGRATIONS``
(version -> its statements) and bumps nothing else: ``connect`` runs every missing step, each
in its own transaction, and refuses a file written by a newer release rather than guess at it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 5000  # serve and a run-smoke --history may write the same file

_V1 = (
    """CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    journey TEXT NOT NULL,
    storefront TEXT NOT NULL,
    location TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('passed', 'failed', 'skipped')),
    ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
    duration_seconds REAL NOT NULL,
    attempt INTEGER NOT NULL,
    failure_class TEXT,
    failure_kind TEXT,
    failed_step TEXT,
    message TEXT NOT NULL DEFAULT '',
    evidence_folder TEXT,
    release TEXT,
    source TEXT NOT NULL CHECK (source IN ('serve', 'run-smoke'))
)""",
    # covering: a success rate or a chart reads the index alone, never the rows
    "CREATE INDEX runs_by_journey ON runs (journey, finished_at, status, duration_seconds)",
    "CREATE INDEX runs_by_time ON runs (finished_at)",
    """CREATE TABLE steps (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('passed', 'failed', 'skipped')),
    duration_seconds REAL NOT NULL,
    failure_kind TEXT,
    PRIMARY KEY (run_id, position)
) WITHOUT ROWID""",
)

MIGRATIONS: dict[int, tuple[str, ...]] = {1: _V1}
"""The statements that take a database from the version before to this one, in order (a
list, not one script split on ';', so a statement may hold a ';' in a string or trigger)."""


class SchemaTooNewError(sqlite3.DatabaseError):
    """The file was written by a newer release: left alone rather than rewritten."""


def connect(
    path: Path, *, read_only: bool = False, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> sqlite3.Connection:
    """A connection with the project's settings, the schema brought up to date (a writer).

    WAL: readers (the status page) never block the writer, and a killed process leaves
    every committed run in the file. ``synchronous=FULL``: one fsync per run is nothing at
    our rate (a journey runs at most every 10 s), and then a power cut too loses at most the
    run in flight. ``auto_vacuum=INCREMENTAL`` lets retention give pages back to the disk.
    Raises ``sqlite3.Error`` (or ``OSError`` for the folder) when the file cannot be used;
    ``busy_timeout_ms``: how long a statement waits for another writer's lock first.
    """
    if read_only:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if read_only:
            _check_version(connection)
        else:
            connection.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only takes on a new file
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            _migrate(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def _version(connection: sqlite3.Connection) -> int:
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if found is None:
        return 0
    row = connection.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def _check_version(connection: sqlite3.Connection) -> int:
    version = _version(connection)
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"written by a newer checkout-monitor (schema version {version}; this release "
            f"knows up to {SCHEMA_VERSION})"
        )
    return version


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error. IMMEDIATE takes the write
    lock at the start (waiting up to the busy timeout), so a transaction never fails halfway
    on a lock another writer took after it began."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _migrate(connection: sqlite3.Connection) -> None:
    with transaction(connection):  # one migrator at a time; others wait, then see it
        version = _check_version(connection)
        if version == 0:
            connection.execute(
                "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at REAL NOT NULL)"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[target]:
                connection.execute(statement)
            connection.execute("INSERT INTO schema_version VALUES (?, ?)", (target, time.time()))
