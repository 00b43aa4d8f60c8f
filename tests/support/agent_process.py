"""`checkout-monitor serve` as a subprocess, the way a container runs it; stopped by PID."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from support.cli_support import BIN, REPO
from support.prometheus_servers import free_port, wait_until


class AgentProcess:
    """A `serve` subprocess listening on a free port; ``stop()`` sends SIGTERM.

    With a web config in ``args``, ``ca`` (the CA that signed the listener's certificate)
    makes it https, and ``auth`` is the user and password ``metrics()`` and ``alerts()`` send.
    ``env``: more environment variables (e.g. the values of a config's ``${ENV}``s).
    ``port``: listen there (a Prometheus already scraping it) instead of on a new free port.
    """

    def __init__(
        self,
        args: list[str],
        tmp: Path,
        *,
        ca: Path | None = None,
        auth: tuple[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"{'https' if ca else 'http'}://127.0.0.1:{self.port}"
        verify = ssl.create_default_context(cafile=ca) if ca else True
        self.client = httpx.Client(verify=verify, auth=auth, timeout=10)
        self.out = (tmp / f"agent-{self.port}.out").open("w+")
        self.process = subprocess.Popen(
            [str(BIN / "checkout-monitor"), "serve", "--listen", f"127.0.0.1:{self.port}", *args],
            stdout=self.out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            text=True,
            env={**os.environ, **env} if env else None,
        )
        try:
            wait_until(
                lambda: self.client.get(f"{self.url}/readyz").status_code == 200, 60, "readyz"
            )
        except AssertionError:
            self.kill()
            raise AssertionError(f"the agent did not get ready:\n{self.output()}") from None

    def output(self) -> str:
        self.out.flush()
        return Path(self.out.name).read_text()

    def metrics(self) -> str:
        return self.client.get(f"{self.url}/metrics").text

    def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self.client.get(f"{self.url}/alerts").json()["alerts"]
        return alerts

    def stop(self) -> tuple[int, float]:
        start = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        return code, time.monotonic() - start

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.client.close()

    def __enter__(self) -> AgentProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.kill()
