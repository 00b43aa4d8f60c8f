"""A folder that is a full or read-only disk for one process: a private mount namespace
(`unshare`) with a 64 KiB tmpfs mounted over it, gone when the process goes; or one existing
file made read-only there (a bind mount of itself), its folder still writable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

# as root a mount namespace is enough; otherwise a user namespace makes us root inside it
UNSHARE = (
    ["unshare", "--mount", "--propagation", "private"] if os.geteuid() == 0 else ["unshare", "-Urm"]
)
TMPFS = "mount -t tmpfs -o size=64k checkout-monitor-test"
SETUP = {
    # fill the tmpfs: every later write there meets "No space left on device"
    "disk_full": f'{TMPFS} "$DIR" && (cat /dev/zero > "$DIR/filler" 2>/dev/null || true)',
    "read_only": f'{TMPFS} "$DIR" && mount -o remount,ro "$DIR"',
    # $DIR is a file here: its content stays, every write to it meets "read-only file system"
    "read_only_file": 'mount --bind "$DIR" "$DIR" && mount -o remount,bind,ro "$DIR"',
}


def in_namespace(fault: str, folder: Path, argv: list[str]) -> list[str]:
    """``argv`` run in a private mount namespace whose ``folder`` is a full or read-only
    tmpfs. ``unshare`` and ``sh`` exec into ``argv``: the process is the command itself."""
    script = f'DIR={folder}; set -e; {SETUP[fault]}; exec "$@"'
    return [*UNSHARE, "sh", "-c", script, "sh", *argv]


def skip_unless_mountable(folder: Path) -> None:
    """Skip, saying why, where this machine cannot make a mount namespace with a tmpfs."""
    try:
        probe = subprocess.run(
            in_namespace("read_only", folder, ["true"]),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip("no `unshare` (util-linux) on this machine: cannot fake a full disk")
    if probe.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs in a private mount namespace here ({' '.join(UNSHARE)}): "
            f"{probe.stderr.strip() or probe.returncode}; containers need CAP_SYS_ADMIN or "
            "unprivileged user namespaces for this test"
        )


def mounted_here(folder: Path) -> bool:
    return f" {folder} " in Path("/proc/self/mountinfo").read_text()
