"""The agent's processes as Linux shows them in /proc: Chromium children, their memory, zombies.

Read straight from ``/proc/<pid>/stat`` (one small file per process, a few milliseconds for
a whole machine) rather than through psutil: this is all the agent needs, and the agent only
runs on Linux (its container, Debian). Elsewhere every figure reads as empty.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_CHROMIUM_NAMES = ("chromium", "chrome", "headless_shell")


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    ppid: int
    name: str  # the kernel's "comm": at most 15 characters
    state: str  # R, S, D, Z (zombie), ...
    rss_bytes: int
    start_ticks: int  # when it started, in clock ticks since boot: a reused PID differs

    @property
    def is_chromium(self) -> bool:
        return self.name.startswith(_CHROMIUM_NAMES)

    @property
    def is_zombie(self) -> bool:
        return self.state == "Z"


def read_process(pid: int, proc: Path = PROC) -> ProcessInfo | None:
    """One process, or None if it is gone (processes come and go while we read)."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'
    head, _, rest = text.rpartition(")")
    fields = rest.split()
    try:
        return ProcessInfo(
            pid=pid,
            ppid=int(fields[1]),
            name=head.partition("(")[2],
            state=fields[0],
            rss_bytes=int(fields[21]) * _PAGE_BYTES,  # field 24 of stat: resident pages
            start_ticks=int(fields[19]),  # field 22
        )
    except (IndexError, ValueError):
        return None


def read_processes(proc: Path = PROC) -> dict[int, ProcessInfo]:
    """Every process on the machine (in the agent's PID namespace), by PID."""
    table: dict[int, ProcessInfo] = {}
    try:
        entries = list(proc.iterdir())
    except OSError:
        return table
    for entry in entries:
        if entry.name.isdigit():
            info = read_process(int(entry.name), proc)
            if info is not None:
                table[info.pid] = info
    return table


def read_tree(root: int, proc: Path = PROC) -> dict[int, ProcessInfo]:
    """``root`` and its descendants, by PID: found through each thread's ``children`` file,
    which reads a dozen processes instead of every one on the machine (a busy host has
    hundreds); the whole table where the kernel lacks those files."""
    if not (proc / str(root) / "task" / str(root) / "children").exists():
        table = read_processes(proc)
        if root not in table:
            return {}
        return {p.pid: p for p in [table[root], *descendants(table, root)]}
    pids, todo = [root], [root]
    while todo:
        for child in _children(todo.pop(), proc):
            pids.append(child)
            todo.append(child)
    found = (read_process(pid, proc) for pid in pids)
    return {info.pid: info for info in found if info is not None}


def _children(pid: int, proc: Path) -> list[int]:
    children: list[int] = []
    try:
        threads = list((proc / str(pid) / "task").iterdir())
    except OSError:
        return children  # gone meanwhile
    for thread in threads:
        try:
            children += [int(c) for c in (thread / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return children


def descendants(table: dict[int, ProcessInfo], pid: int) -> list[ProcessInfo]:
    """Children, grandchildren and so on of ``pid`` (not ``pid`` itself)."""
    children: dict[int, list[ProcessInfo]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info)
    found: list[ProcessInfo] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def chromium_roots(table: dict[int, ProcessInfo], pid: int) -> list[int]:
    """The Chromium browser processes under ``pid``: Chromium processes whose parent is not
    Chromium (Playwright's driver starts them; every other Chromium process is their child)."""
    return [
        info.pid
        for info in descendants(table, pid)
        if info.is_chromium and not _is_chromium(table.get(info.ppid))
    ]


def _is_chromium(info: ProcessInfo | None) -> bool:
    return info is not None and info.is_chromium


@dataclass(frozen=True)
class ProcessTotals:
    """What the agent's own health metrics show."""

    chromium_processes: int
    chromium_rss_bytes: int
    zombies: int


class AgentProcessWatch:
    """Chromium processes, their summed RSS and lasting zombies among the descendants of the
    agent, read afresh at each call (each /metrics scrape).

    Chromium's zygote reaps a closed tab's process within a fraction of a second, so a
    zombie is counted only once an earlier read saw it over ``linger`` seconds ago: the
    count means "not reaped", not "exiting right now".
    """

    def __init__(
        self,
        pid: int | None = None,
        proc: Path = PROC,
        clock: Callable[[], float] = time.monotonic,
        linger: float = 1.0,
    ) -> None:
        self._pid = os.getpid() if pid is None else pid
        self._proc = proc
        self._clock = clock
        self._linger = linger
        self._first_seen: dict[tuple[int, int], float] = {}
        self._lock = threading.Lock()  # scrapes may come in on several threads

    def read(self) -> ProcessTotals:
        processes = descendants(read_tree(self._pid, self._proc), self._pid)
        chromium = [p for p in processes if p.is_chromium and not p.is_zombie]
        return ProcessTotals(
            chromium_processes=len(chromium),
            chromium_rss_bytes=sum(p.rss_bytes for p in chromium),
            zombies=self._lasting([p for p in processes if p.is_zombie]),
        )

    def _lasting(self, zombies: list[ProcessInfo]) -> int:
        now = self._clock()
        with self._lock:
            keys = [(z.pid, z.start_ticks) for z in zombies]
            seen = {key: self._first_seen.get(key, now) for key in keys}
            self._first_seen = seen
            return sum(1 for first in seen.values() if now - first >= self._linger)


def tree_rss_bytes(root: int, proc: Path = PROC) -> int:
    """Summed RSS of ``root`` and its descendants (shared pages count once per process)."""
    return sum(p.rss_bytes for p in read_tree(root, proc).values() if not p.is_zombie)
