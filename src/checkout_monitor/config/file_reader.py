"""A config file's text, refused before it is read when it could never end or is too big.

Apart from the YAML reader because this is about the file system (a FIFO, /dev/zero, a
file growing while read), not the text; the web config file is read the same way.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from checkout_monitor.errors import ConfigError, ConfigProblem

MAX_FILE_BYTES = 1 << 20  # the example config, every option explained, is 26 KiB
_NOT_REGULAR = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def read_config_text(path: Path) -> str:
    """The text of a config file, refusing anything that is not a regular file of at most
    ``MAX_FILE_BYTES`` before reading it: /dev/zero or a FIFO would be read without end."""

    def refuse(message: str, line: int | None = None) -> ConfigError:
        return ConfigError(path, [ConfigProblem("", message, line)])

    try:
        _check_regular(path.stat().st_mode, refuse)  # before opening: a FIFO blocks open()
        # O_NONBLOCK: should the path become a FIFO in between, open() still returns
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as file:
            status = os.fstat(file.fileno())
            _check_regular(status.st_mode, refuse)
            data = b"" if status.st_size > MAX_FILE_BYTES else file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise refuse("file not found") from None
    except OSError as exc:
        raise refuse(f"cannot read the file: {exc}") from None
    size = max(status.st_size, len(data))  # a file that grew since fstat() is read no further
    if size > MAX_FILE_BYTES:
        raise refuse(
            f"too large for a config file: {size:,} bytes, and the limit is 1 MiB "
            f"({MAX_FILE_BYTES:,} bytes); is it the right file?"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at position {exc.start} "
            "cannot be read; save the file as UTF-8",
            data.count(b"\n", 0, exc.start) + 1,
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as open() in text mode reads it


def _check_regular(mode: int, refuse: Callable[[str], ConfigError]) -> None:
    for test, kind in _NOT_REGULAR:
        if test(mode):
            raise refuse(f"not a regular file but {kind}: give the path of a YAML config file")
