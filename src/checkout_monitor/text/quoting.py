"""Shop text made fit for one line of a failure message."""

from __future__ import annotations


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no reason given"


def quote(text: str, limit: int = 160) -> str:
    """``text`` on one line, shortened to ``limit``, in double quotes."""
    one_line = " ".join(text.split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return f'"{one_line}"'
