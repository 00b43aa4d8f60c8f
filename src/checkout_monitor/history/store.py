"""The writer: each finished journey run as one transaction (its run row and step rows
together), and retention by age and size. It raises; ``recorder.py`` decides what a
failure costs."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from checkout_monitor.evidence.redaction import redact
from checkout_monitor.history.schema import BUSY_TIMEOUT_MS, connect, transaction
from checkout_monitor.results import JourneyResult

Source = Literal["serve", "run-smoke"]
MESSAGE_LIMIT = 2000  # characters of the failing step's message kept, after redaction
PRUNE_BATCH_RUNS = 5000  # runs deleted per transaction: the WAL holds one batch, not all
_DAY = 86400.0


@dataclass(frozen=True)
class Retention:
    """How much history is kept: runs newer than ``days``, and at most ``max_bytes``."""

    days: float
    max_bytes: int


class HistoryStore:
    """One history database opened for writing. Not thread-safe: the recorder serializes."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = path
        self._connection = connect(path, busy_timeout_ms=busy_timeout_ms)

    def close(self) -> None:
        self._connection.close()

    def record(
        self,
        result: JourneyResult,
        *,
        source: Source,
        release: str | None = None,
        secrets: Iterable[str] = (),
    ) -> int:
        """Add one finished run and its steps in one transaction; the run's id.

        ``result`` is already scrubbed by the caller; the config's secrets are redacted
        once more here, before the message is cut, as every report does."""
        secrets = frozenset(secrets)
        failed = result.failed_step
        kind = failed.failure_kind if failed else None
        message = redact(failed.message, secrets)[:MESSAGE_LIMIT] if failed else ""
        evidence = result.evidence.folder if result.evidence and not result.ok else None
        started = result.started_at.timestamp()
        connection = self._connection
        with transaction(connection):
            cursor = connection.execute(
                "INSERT INTO runs (journey, storefront, location, started_at, finished_at, "
                "status, ok, duration_seconds, attempt, failure_class, failure_kind, "
                "failed_step, message, evidence_folder, release, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.name,
                    result.storefront,
                    result.location,
                    started,
                    started + result.duration_seconds,
                    result.status.value,
                    int(result.ok),
                    result.duration_seconds,
                    result.attempt,
                    kind.failure_class.value if kind else None,
                    kind.value if kind else None,
                    redact(failed.name, secrets) if failed else None,
                    message,
                    evidence,
                    release,
                    source,
                ),
            )
            run_id = int(cursor.lastrowid or 0)
            connection.executemany(
                "INSERT INTO steps (run_id, position, name, status, duration_seconds, "
                "failure_kind) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        position,
                        redact(step.name, secrets),
                        step.status.value,
                        step.duration_seconds,
                        step.failure_kind.value if step.failure_kind else None,
                    )
                    for position, step in enumerate(result.steps)
                ],
            )
        return run_id

    def prune(
        self,
        retention: Retention,
        now: float | None = None,
        *,
        batch_runs: int = PRUNE_BATCH_RUNS,
    ) -> int:
        """Delete runs older than the retention, then the oldest until the data fits in
        ``max_bytes``, and give the freed pages back to the disk; how many runs went.

        In transactions of at most ``batch_runs`` runs with a checkpoint between
        them: a WAL the size of every deleted page would need that much free disk, the very
        thing a history pruned for its size may not have."""
        now = time.time() if now is None else now
        cutoff = (now - retention.days * _DAY,)
        deleted = self._delete("finished_at < ?", cutoff, math.inf, batch_runs)
        while (used := self.used_bytes()) > retention.max_bytes:
            count = self._connection.execute("SELECT count(*) FROM runs").fetchone()[0]
            if not count:
                break
            # aim a tenth under the limit, so the next runs do not prune again at once
            share = (used - retention.max_bytes * 0.9) / used
            deleted += self._delete("1", (), max(1, math.ceil(count * share)), batch_runs)
        if deleted:
            # executescript steps the statement to its end; execute() frees only one page
            self._connection.executescript("PRAGMA incremental_vacuum;")
            self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted

    def used_bytes(self) -> int:
        """What the data takes in the file: its pages less the free ones."""
        pages = self._pragma("page_count") - self._pragma("freelist_count")
        return pages * self._pragma("page_size")

    def _pragma(self, name: str) -> int:
        return int(self._connection.execute(f"PRAGMA {name}").fetchone()[0])

    def _delete(self, where: str, args: tuple[float, ...], most: float, batch_runs: int) -> int:
        """Delete up to ``most`` of the oldest runs matching ``where``, a batch at a time."""
        connection = self._connection
        deleted = 0
        while deleted < most:
            batch = int(min(batch_runs, most - deleted))
            oldest = f"SELECT id FROM runs WHERE {where} ORDER BY finished_at, id LIMIT {batch}"
            with transaction(connection):
                connection.execute(f"DELETE FROM steps WHERE run_id IN ({oldest})", args)
                gone = int(
                    connection.execute(f"DELETE FROM runs WHERE id IN ({oldest})", args).rowcount
                )
            deleted += gone
            if gone < batch:
                break
            # a passive checkpoint copies the batch into the file without waiting for
            # readers; the next batch then reuses the WAL from its start instead of growing it
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return deleted
