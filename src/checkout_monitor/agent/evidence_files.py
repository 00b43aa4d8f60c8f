"""``/evidence/<path>``: a failure's files from the artifacts folder, for the status page.

Only regular files under the artifacts folder, of the kinds the evidence recorder writes,
are served; anything else is a 404 that says nothing about what exists. A path with ``..``,
``.``, an empty segment, a backslash or a NUL (also percent-encoded) is refused before the
disk is touched, and the resolved path (symlinks followed) must still be under the folder.
A captured page's HTML is the shop's, hostile or not: it is served as a download under a
sandbox CSP, so its scripts can never run in the agent's origin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import unquote

from checkout_monitor.agent.status_server import Answer

PREFIX = "/evidence/"
CONTENT_TYPES = {
    ".png": "image/png",
    ".zip": "application/zip",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
_MAX_BYTES = 64 * 1024 * 1024  # a trace of a long journey; more is not evidence we wrote
_NOT_FOUND = Answer(404, b"not found\n", "text/plain; charset=utf-8")
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
    if Path(parts[-1]).suffix.lower() not in CONTENT_TYPES:
        return None
    try:
        base = root.resolve(strict=True)
        resolved = (base / relative).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a symlink loop, unreadable
        return None
    if not resolved.is_relative_to(base) or not resolved.is_file():
        return None
    return resolved


def evidence_answer(root: Path, encoded: str) -> Answer:
    """The file as an answer with its content type, or a 404."""
    try:
        path = evidence_path(root, encoded)
    except UnicodeDecodeError:
        return _NOT_FOUND
    if path is None:
        return _NOT_FOUND
    try:
        if path.stat().st_size > _MAX_BYTES:
            return _NOT_FOUND
        body = path.read_bytes()
    except OSError:
        return _NOT_FOUND
    suffix = path.suffix.lower()
    headers: tuple[tuple[str, str], ...] = _SANDBOX
    if suffix == ".html":  # a download, never a page of the agent's site
        headers += (("Content-Disposition", f'attachment; filename="{path.name}"'),)
    return Answer(200, body, CONTENT_TYPES[suffix], headers)


def evidence_page(
    artifacts_root: Callable[[], Path],
) -> Callable[[str, Mapping[str, list[str]]], Answer]:
    """The ``/evidence/`` page; ``artifacts_root`` is asked per request (a reload moves it)."""

    def page(path: str, query: Mapping[str, list[str]]) -> Answer:
        return evidence_answer(artifacts_root(), path.removeprefix(PREFIX))

    return page
