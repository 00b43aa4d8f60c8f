"""What a generating command (``rules``, ``schema``) does with its text: print or write it."""

from __future__ import annotations

import sys
from pathlib import Path

from checkout_monitor.errors import UsageError
from checkout_monitor.reports.atomic_files import write_text


def emit(text: str, output: Path | None, what: str, done: str) -> None:
    """``text`` to stdout, or to ``output`` whole (atomically), then ``done`` on stderr so
    stdout stays the file's; ``what`` names it in the error: "the rules", "the schema"."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        write_text(output, text)
    except OSError as exc:
        raise UsageError(f"could not write {what} to {output}: {exc}") from None
    print(done, file=sys.stderr)
