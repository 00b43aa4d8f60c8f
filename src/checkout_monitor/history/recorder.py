"""Recording runs into the history without ever costing the monitoring: a broken, locked or
unwritable database is logged once, counted, and shown as ``problem``; the run goes on.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.history.schema import SchemaTooNewError
from checkout_monitor.history.store import HistoryStore, Retention, Source
from checkout_monitor.results import JourneyResult

log = logging.getLogger("checkout_monitor.history")  # the name logs and filters know

_MEGABYTE = 1024 * 1024
PRUNE_EVERY_SECONDS = 3600.0  # retention runs at open, then at most hourly: not per write

# Why a run could not be recorded: a metric label, so a small fixed set.
WRITE_ERROR_REASONS = ("corrupt", "locked", "disk_full", "unwritable", "too_new", "other")
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
}
_WHAT_TO_DO = {
    "corrupt": "the file is not a usable SQLite database: move it aside and a new one starts",
    "locked": "another process holds the database locked for too long",
    "disk_full": "the disk is full: free space there or lower history.max_megabytes",
    "unwritable": "this user may not write there: fix the folder's owner or permissions",
    "too_new": "a newer checkout-monitor wrote it: use that release, or another history.path",
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
    ) -> None:
        """``log_problems``: False where the caller reports ``problem`` itself (run-smoke)."""
        self.path = path
        self.retention = retention
        self.source: Source = source
        self.release = release
        self.secrets = frozenset(secrets)
        self._on_write = on_write
        self._log_problems = log_problems
        self._clock = clock
        self._lock = threading.Lock()
        self._store: HistoryStore | None = None
        self._pruned_at: float | None = None
        self._problem: str | None = None
        self._logged: str | None = None  # the reason last logged: each is logged once

    @property
    def problem(self) -> str | None:
        return self._problem

    def record(self, result: JourneyResult) -> bool:
        """Record one run (and prune when due); False, logged and counted, if it could not."""
        with self._lock:
            try:
                store = self._open()
                store.record(result, source=self.source, release=self.release, secrets=self.secrets)
                self._prune_when_due(store)
            except (sqlite3.Error, OSError) as exc:
                self._failed(exc)
                return False
            if self._problem is not None:
                log.info("run history: recording in %s again", self.path)
            self._problem = self._logged = None
            if self._on_write is not None:
                self._on_write(True, None)
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
        """Take a reloaded config's settings; a new path is opened at the next run."""
        path, secrets = loaded.history_path(), loaded.secrets
        with self._lock:
            if path != self.path:
                self._close_store()
                self.path = path
                self._pruned_at = None
            self.retention, self.secrets = retention(loaded), secrets

    def close(self) -> None:
        with self._lock:
            self._close_store()

    def _open(self) -> HistoryStore:
        if self._store is None:
            self._store = HistoryStore(self.path)
        return self._store

    def _prune_when_due(self, store: HistoryStore) -> None:
        now = self._clock()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        deleted = store.prune(self.retention, now)
        if deleted:
            log.info("run history: %d old run(s) pruned from %s", deleted, self.path)

    def _failed(self, exc: BaseException) -> None:
        self._close_store()  # opened again at the next run: the file may be fixed by then
        reason = write_error_reason(exc)
        self._problem = (
            f"run history not recorded in {self.path}: {_WHAT_TO_DO[reason]} ({reason}: "
            f"{exc}); monitoring goes on without it"
        )
        if self._logged != reason and self._log_problems:
            self._logged = reason
            log.warning("%s", self._problem)
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
