"""The artifacts folder: one folder per run, one per failing journey attempt, and retention.

Layout: ``<artifacts dir>/<run>/<journey>/attempt-<n>/``, where ``<run>`` is
``2026-11-23T15-04-05Z-<6 hex>``. A run folder is only made when an attempt fails, so
passing runs write nothing. After each run the oldest run folders go until at most
``keep_runs`` are left and they fit in ``max_megabytes``; runs still in progress, and
anything in the folder that is not a run folder, are never touched.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from checkout_monitor.config.model import LoadedConfig

log = logging.getLogger("checkout_monitor.artifacts")  # the name logs and filters know

RUN_NAME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z-[0-9a-f]{6}")
_MEGABYTE = 1024 * 1024

# Why evidence could not be written: a metric label, so a small fixed set.
WRITE_ERROR_REASONS = ("disk_full", "read_only", "permission_denied", "other")
_REASON_BY_ERRNO = {
    errno.ENOSPC: "disk_full",
    errno.EDQUOT: "disk_full",
    errno.EROFS: "read_only",
    errno.EACCES: "permission_denied",
    errno.EPERM: "permission_denied",
}
_WHAT_TO_DO = {
    "disk_full": "the disk is full: free space there or lower artifacts.max_megabytes",
    "read_only": "the folder is on a read-only file system: mount it writable",
    "permission_denied": "this user may not write there: fix its owner or permissions",
    "other": "check the folder",
}
WriteListener = Callable[[bool, str | None], None]
"""Told after each attempt's evidence: (written whole, the reason if not)."""


def write_error_reason(exc: BaseException) -> str:
    """The bounded reason label for an error writing evidence."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return _REASON_BY_ERRNO.get(exc.errno, "other")
    return "other"


class ArtifactStore:
    """Where the evidence of failures is kept, and how much of it.

    ``secrets`` are the config's ``${ENV}`` values: evidence is scrubbed of them before it
    is written here.
    """

    def __init__(
        self,
        root: Path,
        *,
        keep_runs: int,
        max_bytes: int,
        secrets: frozenset[str] = frozenset(),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_write: WriteListener | None = None,
    ) -> None:
        self.root = root
        self.keep_runs = keep_runs
        self.max_bytes = max_bytes
        self.secrets = secrets
        self.last_run: RunFolder | None = None
        self._now = now
        self._active: set[str] = set()  # runs in progress: never pruned
        self._on_write = on_write  # the agent's metrics; run-smoke has only the log

    @classmethod
    def from_config(
        cls, loaded: LoadedConfig, on_write: WriteListener | None = None
    ) -> ArtifactStore:
        settings = loaded.config.artifacts
        return cls(
            loaded.artifacts_dir(),
            keep_runs=settings.keep_runs,
            max_bytes=settings.max_megabytes * _MEGABYTE,
            secrets=loaded.secrets,
            on_write=on_write,
        )

    def evidence_written(self, folder: Path, errors: list[OSError], lost: list[str]) -> None:
        """Say what became of one attempt's evidence. A full or read-only disk costs the
        evidence, never the run: one warning names the folder, the files lost and what to do."""
        reason = write_error_reason(errors[0]) if errors else None
        if reason is not None:
            log.warning(
                "evidence not kept in %s (%s): %s (%s, %s); monitoring goes on without it",
                folder,
                ", ".join(lost) or "the folder itself",
                _WHAT_TO_DO[reason],
                reason,
                os_reason(errors[0]),
            )
        if self._on_write is not None:
            self._on_write(reason is None, reason)

    def configure(self, loaded: LoadedConfig) -> None:
        """Take a reloaded config's settings; runs already started keep their folder."""
        fresh = ArtifactStore.from_config(loaded)
        self.root, self.keep_runs = fresh.root, fresh.keep_runs
        self.max_bytes, self.secrets = fresh.max_bytes, fresh.secrets

    def start_run(self) -> RunFolder:
        """Name a new run folder; it is created only when a failing attempt needs it."""
        stamp = self._now().astimezone(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
        run = RunFolder(self, self.root, f"{stamp}-{secrets.token_hex(3)}")
        self._active.add(run.name)
        self.last_run = run
        return run

    def finish_run(self, run: RunFolder) -> None:
        """The run is over: prune old runs."""
        self._active.discard(run.name)
        self.prune()

    def prune(self) -> list[str]:
        """Delete the oldest run folders beyond ``keep_runs`` or ``max_bytes``; return their
        names. Problems are logged: retention must never fail a run."""
        try:
            runs = [p for p in self.root.iterdir() if RUN_NAME.fullmatch(p.name) and p.is_dir()]
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("cannot list the artifacts folder %s: %s", self.root, os_reason(exc))
            return []
        runs.sort(key=_age_key)
        sizes = {run.name: folder_size(run) for run in runs}
        total = sum(sizes.values())
        count = len(runs)
        removed: list[str] = []
        for run in runs[:-1]:  # the newest is kept whatever its size: the latest evidence
            if count <= self.keep_runs and total <= self.max_bytes:
                break
            if run.name in self._active:
                continue
            try:
                shutil.rmtree(run)
            except OSError as exc:
                log.warning("cannot delete the old artifacts folder %s: %s", run, os_reason(exc))
                continue
            removed.append(run.name)
            total -= sizes[run.name]
            count -= 1
        if total > self.max_bytes:
            log.warning(
                "the artifacts folder %s holds %.1f MB, over its %.0f MB limit, in runs still "
                "in progress or that cannot be deleted",
                self.root,
                total / _MEGABYTE,
                self.max_bytes / _MEGABYTE,
            )
        return removed


class RunFolder:
    """One run's folder (a run-smoke invocation, or one journey run of the agent)."""

    def __init__(self, store: ArtifactStore, root: Path, name: str) -> None:
        self.store = store
        self.root = root  # the artifacts folder this run writes to
        self.name = name
        self.created = False  # whether any evidence was written

    @property
    def path(self) -> Path:
        return self.root / self.name

    @property
    def secrets(self) -> frozenset[str]:
        return self.store.secrets

    def attempt_relative(self, journey: str, attempt: int) -> str:
        """The attempt folder, relative to the artifacts folder (how ``Evidence`` names it)."""
        return f"{self.name}/{journey}/attempt-{attempt}"

    def attempt_folder(self, journey: str, attempt: int) -> Path:
        """Create and return the attempt's folder; raises ``OSError`` when it cannot."""
        folder = self.root / self.attempt_relative(journey, attempt)
        folder.mkdir(parents=True, exist_ok=True)
        self.created = True
        return folder

    def finish(self) -> None:
        self.store.finish_run(self)


def folder_size(folder: Path) -> int:
    """Bytes in the files under ``folder``; files that vanish meanwhile count as nothing."""
    total = 0
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(parent) / name).lstat().st_size
    return total


def _age_key(run: Path) -> tuple[str, int]:
    """Oldest first: by the time in the name, then (same second) by the folder's age."""
    try:
        mtime = run.stat().st_mtime_ns
    except OSError:
        mtime = 0
    return run.name[:20], mtime


def os_reason(exc: BaseException) -> str:
    """What went wrong with a file, in the system's words: "No space left on device"."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
