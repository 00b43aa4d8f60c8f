"""Durations written the way operators write them: "500ms", "90s", "15m", "1h30m"."""

from __future__ import annotations

import math
import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")

DURATION_HINT = "a number with a unit, e.g. 500ms, 90s, 15m, 1h30m"
# What parse_duration accepts, as a JSON Schema pattern (ECMA-262 and Python alike): spaces
# anywhere (they are dropped), other white space only around the whole.
DURATION_PATTERN = r"^\s*(?: *[0-9][0-9 ]*(?:\. *[0-9][0-9 ]*)?(?:m *s|s|m|h|d))+ *\s*$"


def parse_duration(text: str) -> float:
    """Return the duration in seconds, or raise ValueError saying what is valid."""
    cleaned = text.strip().replace(" ", "")
    if not cleaned or not _WHOLE.fullmatch(cleaned):
        raise ValueError(f"{text!r} is not a duration: use {DURATION_HINT}")
    seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(cleaned))
    if not math.isfinite(seconds):  # "999...9h" is a float overflow, not a duration
        raise ValueError(f"{text!r} is not a duration: the number is too large")
    return seconds


def format_duration(seconds: float) -> str:
    """Short human form used in messages: 0.4s, 12s, 2m30s."""
    if seconds < 10:
        return f"{seconds:.1f}s".replace(".0s", "s")
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours}h{rest // 60}m" if rest >= 60 else f"{hours}h"
