"""Recording runs into the history without ever costing the monitoring: a broken, locked or
unwritable database is logged once, counted, and shown as ``problem``; the run goes on.

``serve`` hands each run to ``submit``: one writer thread of the recorder's own takes it from
a bounded queue, so a database that waits on a lock or a disk never holds a journey's slot,
the event loop or the executor the journeys' own checks use. ``run-smoke`` calls ``record``,
which writes at once and answers whether it could, for its exit code.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.history.reasons import WRITE_ERROR_REASONS
from checkout_monitor.history.schema import BUSY_TIMEOUT_MS, SchemaTooNewError
from checkout_monitor.history.store import HistoryStore, Retention, Source
from checkout_monitor.results import JourneyResult

log = logging.getLogger("checkout_monitor.history")  # the name logs and filters know

_MEGABYTE = 1024 * 1024
PRUNE_EVERY_SECONDS = 3600.0  # retention runs at open, then at most hourly: not per write
QUEUE_SIZE = 100  # runs waiting for the writer: minutes of every journey at its fastest
CLOSE_TIMEOUT_SECONDS = 10.0  # how long stopping waits for the queued runs to be written

__all__ = ["WRITE_ERROR_REASONS", "HistoryRecorder", "write_error_reason"]
_REASON_BY_SQLITE_ERROR = {
    "SQLITE_NOTADB": "corrupt",
    "SQLITE_CORRUPT": "corrupt",
    "SQLITE_BUSY": "locked",
    "SQLITE_LOCKED": "locked",
    "SQLITE_FULL": "disk_full",
    "SQLITE_CANTOPEN": "unwritable",
    "SQLITE_PERM": "unwritable",
    "SQLITE_AUTH": "unwritable",
    "SQLITE_READONLY": "unwritable",
}
_REASON_BY_ERRNO = {
    errno.ENOSPC: "disk_full",
    errno.EDQUOT: "disk_full",
    errno.EROFS: "unwritable",
    errno.EACCES: "unwritable",
    errno.EPERM: "unwritable",
    errno.EEXIST: "unwritable",  # a file stands where the folder should be made
    errno.ENOTDIR: "unwritable",  # ... or where one of its parent folders should be
}
_WHAT_TO_DO = {
    "corrupt": "the file is not a usable SQLite database: move it aside and a new one starts",
    "locked": "another process holds the database locked for too long",
    "disk_full": "the disk is full: free space there or lower history.max_megabytes",
    "unwritable": (
        "this user may not write there: fix the folder's owner or permissions (or move aside "
        "a file that stands where the folder should be)"
    ),
    "too_new": "a newer checkout-monitor wrote it: use that release, or another history.path",
    "queue_full": "the database is too slow or locked for too long to keep up",
    "other": "check the file",
}
WriteListener = Callable[[bool, str | None], None]
"""Told after each run: (recorded, the reason if not). The agent's metrics listen."""


def write_error_reason(exc: BaseException) -> str:
    """The bounded reason label for an error recording a run."""
    if isinstance(exc, SchemaTooNewError):
        return "too_new"
    if isinstance(exc, sqlite3.Error):
        # the primary code of an extended one: SQLITE_READONLY_DBMOVED -> SQLITE_READONLY
        name = "_".join((getattr(exc, "sqlite_errorname", "") or "").split("_")[:2])
        return _REASON_BY_SQLITE_ERROR.get(name, "other")
    if isinstance(exc, OSError) and exc.errno is not None:
        return _REASON_BY_ERRNO.get(exc.errno, "other")
    return "other"


@dataclass(frozen=True)
class _Settings:
    """What a reloaded config changes: taken by the writer before its next run."""

    path: Path
    retention: Retention
    secrets: frozenset[str]


class HistoryRecorder:
    """Records finished runs into the database at ``path``; safe to call from any thread.

    ``problem`` is None while recording works, else one line for a person (the status page
    shows it). The database is opened on first use and again after each failure, so a file
    moved aside or a disk freed heals without a restart.
    """

    def __init__(
        self,
        path: Path,
        retention: Retention,
        *,
        source: Source,
        release: str | None = None,
        secrets: Iterable[str] = (),
        on_write: WriteListener | None = None,
        log_problems: bool = True,
        clock: Callable[[], float] = time.time,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        """``log_problems``: False where the caller reports ``problem`` itself (run-smoke).
        ``busy_timeout_ms``: how long one write waits for another writer's lock."""
        self.path = path
        self.retention = retention
        self.source: Source = source
        self.release = release
        self.secrets = frozenset(secrets)
        self._on_write = on_write
        self._log_problems = log_problems
        self._clock = clock
        self._busy_timeout_ms = busy_timeout_ms
        self._lock = threading.Lock()  # one write at a time: the writer thread's or record()'s
        self._store: HistoryStore | None = None
        self._pruned_at: float | None = None
        self._pruning_failed = False
        # a reload's settings: stored without a lock (the loop must never wait on a write),
        # applied by the next write
        self._pending: _Settings | None = None
        self._applied: _Settings | None = None
        self._queue: queue.Queue[JourneyResult | None] = queue.Queue(queue_size)
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()  # starts one writer; never held while writing
        self._state_lock = threading.Lock()  # problem and logged, set from either thread
        self._problem: str | None = None
        self._logged: str | None = None  # the reason last logged: each is logged once

    @property
    def problem(self) -> str | None:
        return self._problem

    def record(self, result: JourneyResult) -> bool:
        """Record one run now, in this thread, waiting for the database (run-smoke: its exit
        code needs the answer); False, logged and counted, if it could not."""
        with self._lock:
            return self._write(result)

    def submit(self, result: JourneyResult) -> bool:
        """Hand one run to the writer thread and return at once, never waiting on the
        database (serve's event loop). False, logged once and counted as ``queue_full``,
        when ``queue_size`` runs already wait: that run is not recorded."""
        self._start_writer()
        try:
            self._queue.put_nowait(result)
        except queue.Full:
            self._failed("queue_full", f"{self._queue.maxsize} runs already wait to be written")
            return False
        return True

    @classmethod
    def from_config(
        cls,
        loaded: LoadedConfig,
        *,
        source: Source,
        path: Path | None = None,
        release: str | None = None,
        on_write: WriteListener | None = None,
        log_problems: bool = True,
    ) -> HistoryRecorder:
        """``path``: run-smoke's --history; default the config's ``history.path``."""
        return cls(
            path or loaded.history_path(),
            retention(loaded),
            source=source,
            release=release,
            secrets=loaded.secrets,
            on_write=on_write,
            log_problems=log_problems,
        )

    def configure(self, loaded: LoadedConfig) -> None:
        """Take a reloaded config's settings, from the next run on (a new path is opened
        then; a changed retention prunes then). Never waits: a write may hold the database."""
        self._pending = _Settings(loaded.history_path(), retention(loaded), loaded.secrets)

    def close(self, timeout: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Write what is queued (for up to ``timeout`` seconds), stop the writer, close."""
        writer = self._writer
        if writer is not None:
            deadline = time.monotonic() + timeout
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=timeout)  # after every run queued before it
            writer.join(max(0.0, deadline - time.monotonic()))
            if writer.is_alive():  # still waiting on the database: it ends with the process
                log.warning(
                    "run history: stopped waiting for %s; up to %d run(s) not recorded",
                    self.path,
                    self._queue.qsize() + 1,
                )
                return
            self._writer = None
        with self._lock:
            self._close_store()

    def _start_writer(self) -> None:
        if self._writer is not None:
            return
        with self._writer_lock:
            if self._writer is None:
                writer = threading.Thread(target=self._write_queued, name="history", daemon=True)
                writer.start()
                self._writer = writer

    def _write_queued(self) -> None:
        """The writer thread: each queued run in turn, until the stop item."""
        while (result := self._queue.get()) is not None:
            try:
                with self._lock:
                    self._write(result)
            except Exception:  # a listener's bug: the writer must outlive it
                log.exception("run history: recording %s failed (a bug)", result.name)

    def _write(self, result: JourneyResult) -> bool:
        """Record one run (the caller holds ``_lock``), then prune when due."""
        self._apply_settings()
        try:
            store = self._open()
            store.record(result, source=self.source, release=self.release, secrets=self.secrets)
        except Exception as exc:  # a bug too costs this run only, never the monitoring
            self._close_store()  # opened again at the next run: the file may be fixed by then
            self._failed(write_error_reason(exc), str(exc), exc)
            return False
        self._prune_when_due(store)  # the run is in the file whatever pruning does
        with self._state_lock:
            if self._problem is not None:
                log.info("run history: recording in %s again", self.path)
            self._problem = self._logged = None
        if self._on_write is not None:
            self._on_write(True, None)
        return True

    def _apply_settings(self) -> None:
        settings = self._pending
        if settings is None or settings is self._applied:
            return
        self._applied = settings
        if settings.path != self.path or settings.retention != self.retention:
            self._pruned_at = None  # a shorter retention takes effect now, not within the hour
        if settings.path != self.path:
            self._close_store()
            self.path = settings.path
        self.retention, self.secrets = settings.retention, settings.secrets

    def _open(self) -> HistoryStore:
        if self._store is None:
            self._store = HistoryStore(self.path, busy_timeout_ms=self._busy_timeout_ms)
        return self._store

    def _prune_when_due(self, store: HistoryStore) -> None:
        now = self._clock()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        try:
            deleted = store.prune(self.retention, now)
        except Exception as exc:  # tried again in an hour; the runs keep being recorded
            if not self._pruning_failed:
                self._pruning_failed = True
                log.warning(
                    "run history: pruning failed in %s (%s: %s); runs are still recorded, "
                    "old ones stay until pruning works",
                    self.path,
                    write_error_reason(exc),
                    exc,
                    exc_info=not isinstance(exc, sqlite3.Error | OSError),
                )
            return
        if self._pruning_failed:
            self._pruning_failed = False
            log.info("run history: pruning %s works again", self.path)
        if deleted:
            log.info("run history: %d old run(s) pruned from %s", deleted, self.path)

    def _failed(self, reason: str, detail: str, exc: BaseException | None = None) -> None:
        """Say why a run was not recorded: ``problem`` always, the log once per reason (with
        the traceback of an error that is not the database's or the disk's: a bug)."""
        with self._state_lock:
            self._problem = (
                f"run history not recorded in {self.path}: {_WHAT_TO_DO[reason]} ({reason}: "
                f"{detail}); monitoring goes on without it"
            )
            if self._logged != reason and self._log_problems:
                self._logged = reason
                bug = exc is not None and not isinstance(exc, sqlite3.Error | OSError)
                log.warning("%s", self._problem, exc_info=exc if bug else None)
        if self._on_write is not None:
            self._on_write(False, reason)

    def _close_store(self) -> None:
        if self._store is not None:
            store, self._store = self._store, None
            with contextlib.suppress(sqlite3.Error):  # already broken: nothing left to lose
                store.close()


def retention(loaded: LoadedConfig) -> Retention:
    settings = loaded.config.history
    return Retention(days=settings.retention_days, max_bytes=settings.max_megabytes * _MEGABYTE)
