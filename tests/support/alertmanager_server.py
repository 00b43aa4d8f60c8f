"""Debian's real Alertmanager on a free loopback port, routing to a receiver the test holds."""

from __future__ import annotations

import shutil
from pathlib import Path

from support.prometheus_servers import Server, free_port

ALERTMANAGER_CONFIG = """\
route:
  receiver: test-receiver
  group_by: [alertname, journey]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test-receiver
    webhook_configs:
      - url: {receiver_url}
        send_resolved: true
"""


class Alertmanager:
    """Started and stopped on the same port and storage, as a restarted receiver would be."""

    def __init__(self, tmp: Path, receiver_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._tmp = tmp
        self._config = tmp / "alertmanager.yml"
        self._config.write_text(ALERTMANAGER_CONFIG.format(receiver_url=receiver_url))
        self._server: Server | None = None
        self.starts = 0

    def start(self) -> Alertmanager:
        binary = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
        self.starts += 1
        self._server = Server(
            [
                binary,
                f"--config.file={self._config}",
                f"--storage.path={self._tmp / 'alertmanager-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",  # no gossip port on other interfaces
            ],
            self.url,
            "/-/ready",
            self._tmp / f"alertmanager-{self.starts}.log",
        )
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
