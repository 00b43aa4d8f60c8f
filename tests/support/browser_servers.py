"""Remote browsers on loopback, for the agent to connect to: a real ``playwright run-server``
(as the Python package ships it) and a real Chromium with a debugging port. Each is started
in a process group of its own and stopped by that group's ID, browsers included.

The run-server launches Playwright's own Chromium, which cannot be downloaded here: its
environment points ``PLAYWRIGHT_BROWSERS_PATH`` at a folder laid out as Playwright's install
is, whose executable is Debian's Chromium. The product never knows: which browser a server
runs is the server's business, as in a cluster, where it is the Playwright image's own.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import playwright

from checkout_monitor.browser.chromium import LAUNCH_FLAGS, find_chromium
from checkout_monitor.browser.process_stats import read_processes
from support.prometheus_servers import free_port, wait_until

TAG = "CHECKOUT_MONITOR_BROWSER_SERVER_TAG"  # in the environment of every process started here
_DEVTOOLS = re.compile(r"DevTools listening on (ws://\S+)")


def _browsers_folder(root: Path) -> Path:
    """A Playwright browsers folder whose headless Chromium is Debian's, through a script
    that notes each launch's flags in ``launches`` (so a test can tell the server's browser
    ran, and with which flags)."""
    package = Path(playwright.__file__).parent / "driver" / "package"
    browsers = json.loads((package / "browsers.json").read_text())["browsers"]
    revision = next(b["revision"] for b in browsers if b["name"] == "chromium-headless-shell")
    shell = root / f"chromium_headless_shell-{revision}" / "chrome-headless-shell-linux64"
    shell.mkdir(parents=True, exist_ok=True)
    chromium = find_chromium(None)
    assert chromium is not None, "no Chromium on this machine"
    script = shell / "chrome-headless-shell"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{root / "launches"}"\nexec {chromium} "$@"\n')
    script.chmod(0o755)
    return root


class _ProcessGroup:
    """A started process in a group of its own; ``kill()`` ends the group and everything it
    left behind with the tag in its environment (a browser outliving its server)."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str]) -> None:
        self.tag = f"{os.getpid()}-{id(self)}"
        self._log = log.open("a")
        self.process = subprocess.Popen(
            args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env, TAG: self.tag},
            start_new_session=True,
        )

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        wait_until(lambda: not self._kill_left_behind(), 15, "the server's browsers to end")
        self._log.close()

    def _kill_left_behind(self) -> list[int]:
        """SIGKILL to each process still carrying the tag; the PIDs it was sent to."""
        left = []
        for pid in read_processes():
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"{TAG}={self.tag}".encode() in environ:
                left.append(pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        return left


class PlaywrightServer(_ProcessGroup):
    """``playwright run-server`` on ``port`` (a free one by default) of 127.0.0.1;
    ``unsafe``: it takes the flags its clients ask for (``--unsafe``); ``path``: the only
    path it answers on (``--path``, a run-server's one form of authentication)."""

    def __init__(
        self, tmp: Path, port: int | None = None, *, unsafe: bool = False, path: str = "/"
    ) -> None:
        self.port = port or free_port()
        self.url = f"ws://127.0.0.1:{self.port}{path}"
        self._browsers = tmp / "playwright-browsers"
        command = [sys.executable, "-m", "playwright", "run-server", "--path", path]
        super().__init__(
            [*command, "--port", str(self.port), "--host", "127.0.0.1", *["--unsafe"] * unsafe],
            tmp / "playwright-server.log",
            {"PLAYWRIGHT_BROWSERS_PATH": str(_browsers_folder(self._browsers))},
        )
        wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{self.port}/", timeout=2).text == "Running",
            30,
            f"playwright run-server on port {self.port}",
        )

    def launches(self) -> list[str]:
        """The command line of each browser servers on this folder launched for a client."""
        marks = self._browsers / "launches"
        return marks.read_text().splitlines() if marks.exists() else []


class DebuggingChromium(_ProcessGroup):
    """Chromium with the project's flags and ``--remote-debugging-port`` on a free port;
    ``url`` is the DevTools websocket it announces; ``requested()`` tells what it loaded."""

    def __init__(self, tmp: Path) -> None:
        chromium = find_chromium(None)
        assert chromium is not None, "no Chromium on this machine"
        profile = tmp / "debugging-chromium-profile"
        profile.mkdir(exist_ok=True)
        self._net_log = tmp / "net-log.json"  # every URL it requests, written as it goes
        args = [
            chromium,
            *LAUNCH_FLAGS,
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            f"--log-net-log={self._net_log}",
        ]
        log = tmp / "debugging-chromium.log"
        super().__init__([*args, "about:blank"], log, {})
        announced: list[str] = []

        def devtools_url() -> bool:
            announced[:] = _DEVTOOLS.findall(log.read_text(errors="replace"))
            return bool(announced)

        wait_until(devtools_url, 30, "Chromium to announce its DevTools URL")
        self.url = announced[0]

    def requested(self, text: str) -> bool:
        """Whether this Chromium has requested a URL holding ``text`` (its NetLog says)."""
        return self._net_log.exists() and text in self._net_log.read_text(errors="replace")
