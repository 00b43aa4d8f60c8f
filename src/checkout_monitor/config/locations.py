"""Key paths as every config message writes them, and the line each is on.

Shared by the YAML reader, the validation messages and the cross-field checks (and the web
config and journey plan), so a field is named and quoted the same way whichever stage
finds the problem.
"""

from __future__ import annotations

from collections.abc import Mapping

Loc = tuple[str | int, ...]

MAX_QUOTED = 80  # of a value quoted back: enough to recognise it, never a screenful


def shorten(text: str, limit: int = MAX_QUOTED) -> str:
    return text if len(text) <= limit else f"{text[: limit - 15]}... ({len(text)} characters)"


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        name = str(part)
        if not name or not name.isprintable() or name != name.strip():
            name = repr(name)  # a key can be any text: "\r", "" or a line break stay visible
        name = shorten(name)  # and a whole screen of it
        out += f"[{part}]" if isinstance(part, int) else (f".{name}" if out else name)
    return out


def line_of(loc: Loc, lines: Mapping[Loc, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None
