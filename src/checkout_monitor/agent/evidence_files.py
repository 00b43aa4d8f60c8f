"""``/evidence/<path>``: a failure's files from the artifacts folder, for the status page.

Only the files the evidence recorder writes, by their exact names, where it writes them
(``<run folder>/<journey>/attempt-<n>/<name>``, see evidence/artifacts.py) are served;
anything else is a 404 that says nothing about what exists. A path with ``..``, ``.``, an
empty segment, a backslash or a NUL (also percent-encoded) is refused before the disk is
touched, and the resolved path (symlinks followed) must still be under the folder.
A captured page's HTML is the shop's, hostile or not: it is served as a download under a
sandbox CSP, so its scripts can never run in the agent's origin.

A file is sent in chunks from the open file, never read whole: a trace is megabytes, and
at most ``MAX_DOWNLOADS`` answers are sent at once (more wait for a 503 and retry).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from checkout_monitor.agent.status_server import Answer
from checkout_monitor.evidence.artifacts import RUN_NAME
from checkout_monitor.evidence.recorder import (
    CONSOLE,
    FRAMES,
    HTML,
    REQUESTS,
    SCREENSHOT,
    TRACE,
)

PREFIX = "/evidence/"
# The recorder's file names (evidence/recorder.py), each with the type it is served as.
CONTENT_TYPES = {
    SCREENSHOT: "image/png",
    TRACE: "application/zip",
    HTML: "text/html; charset=utf-8",
    REQUESTS: "application/json",
    CONSOLE: "text/plain; charset=utf-8",
    FRAMES: "text/plain; charset=utf-8",
}
_ATTEMPT = re.compile(r"attempt-\d+")
# A few people looking at one failure; a link shared in an incident channel is more, and
# each answer holds a thread and an open file for as long as its client reads.
MAX_DOWNLOADS = 8
_NOT_FOUND = Answer(404, b"not found\n", "text/plain; charset=utf-8")
_BUSY = Answer(
    503,
    b"503 Service Unavailable: too many evidence downloads at once; retry in a few seconds\n",
    "text/plain; charset=utf-8",
    (("Retry-After", "5"),),
)
# Nothing in an evidence file may load, run or frame anything in the agent's origin.
_SANDBOX = (("Content-Security-Policy", "sandbox; default-src 'none'"),)


def evidence_path(root: Path, encoded: str) -> Path | None:
    """The file ``encoded`` (the URL path after /evidence/) names under ``root``, or None."""
    relative = unquote(encoded, errors="strict") if "%" in encoded else encoded
    if "\\" in relative or "\0" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    if len(parts) != 4:  # run folder, journey, attempt, file: nothing above or below
        return None
    run, _journey, attempt, name = parts
    if not RUN_NAME.fullmatch(run) or not _ATTEMPT.fullmatch(attempt) or name not in CONTENT_TYPES:
        return None
    try:
        base = root.resolve(strict=True)
        resolved = (base / relative).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a symlink loop, unreadable
        return None
    if not resolved.is_relative_to(base) or not resolved.is_file():
        return None
    real = resolved.relative_to(base).parts  # a symlinked folder may not move it elsewhere
    if len(real) != len(parts) or real[-1] != name or not RUN_NAME.fullmatch(real[0]):
        return None
    return resolved


class EvidenceFile:
    """An open evidence file, sent in chunks; closing it frees its download slot."""

    def __init__(self, file: BinaryIO, size: int, release: Callable[[], None]) -> None:
        self.size = size
        self._file = file
        self._release = release
        self._closed = False

    def read(self, size: int) -> bytes:
        return self._file.read(size)

    def close(self) -> None:
        if not self._closed:  # a slot is given back once
            self._closed = True
            self._file.close()
            self._release()


def evidence_answer(root: Path, encoded: str, slots: threading.BoundedSemaphore) -> Answer:
    """The file as a streamed answer with its content type, a 404, or a 503 when busy."""
    try:
        path = evidence_path(root, encoded)
    except UnicodeDecodeError:
        return _NOT_FOUND
    if path is None:
        return _NOT_FOUND
    if not slots.acquire(blocking=False):
        return _BUSY
    try:
        file = path.open("rb")
    except OSError:
        slots.release()
        return _NOT_FOUND
    try:
        size = path.stat().st_size
    except OSError:
        file.close()
        slots.release()
        return _NOT_FOUND
    headers: tuple[tuple[str, str], ...] = _SANDBOX
    if path.name == HTML:  # a download, never a page of the agent's site
        headers += (("Content-Disposition", f'attachment; filename="{HTML}"'),)
    stream = EvidenceFile(file, size, slots.release)
    return Answer(200, b"", CONTENT_TYPES[path.name], headers, stream=stream)


def evidence_page(
    artifacts_root: Callable[[], Path], max_downloads: int = MAX_DOWNLOADS
) -> Callable[[str, Mapping[str, list[str]]], Answer]:
    """The ``/evidence/`` page; ``artifacts_root`` is asked per request (a reload moves it)."""
    slots = threading.BoundedSemaphore(max_downloads)

    def page(path: str, query: Mapping[str, list[str]]) -> Answer:
        return evidence_answer(artifacts_root(), path.removeprefix(PREFIX), slots)

    return page
