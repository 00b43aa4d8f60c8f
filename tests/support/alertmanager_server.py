"""Debian's real Alertmanager on a free loopback port, routing to a receiver the test holds;
alone, or as members of a cluster gossiping on loopback (``clustered``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from support.prometheus_servers import Server, free_port, wait_until

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
# A cluster's member at position N waits N peer timeouts before it notifies, and then only
# if the notification log gossiped from the others shows nobody did. Short, so tests are
# quick; long enough that gossip every 100ms reaches a loaded machine's other member.
PEER_TIMEOUT = 3.0
_CLUSTER_FLAGS = [
    "--cluster.gossip-interval=100ms",
    "--cluster.pushpull-interval=1s",
    "--cluster.probe-interval=200ms",
    "--cluster.reconnect-interval=1s",
    f"--cluster.peer-timeout={PEER_TIMEOUT:g}s",
]


class Alertmanager:
    """Started and stopped on the same port and storage, as a restarted receiver would be."""

    def __init__(
        self, tmp: Path, receiver_url: str, *, name: str = "alertmanager", cluster: bool = False
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        # gossip over TCP and UDP on this port; peers are the other members' cluster ports
        self.cluster_port = free_port() if cluster else None
        self.peers: list[Alertmanager] = []
        self._tmp = tmp
        self._config = tmp / f"{name}.yml"
        self._config.write_text(ALERTMANAGER_CONFIG.format(receiver_url=receiver_url))
        self._server: Server | None = None
        self.starts = 0

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> Alertmanager:
        binary = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
        self.starts += 1
        if self.cluster_port is None:
            cluster = ["--cluster.listen-address="]  # no gossip port on other interfaces
        else:
            gossip = f"127.0.0.1:{self.cluster_port}"
            cluster = [
                f"--cluster.listen-address={gossip}",
                f"--cluster.advertise-address={gossip}",
                *(f"--cluster.peer=127.0.0.1:{peer.cluster_port}" for peer in self.peers),
                *_CLUSTER_FLAGS,
            ]
        self._server = Server(
            [
                binary,
                f"--config.file={self._config}",
                f"--storage.path={self._tmp / f'{self.name}-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                *cluster,
            ],
            self.url,
            "/-/ready",
            self._tmp / f"{self.name}-{self.starts}.log",
        )
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def cluster_peers(self) -> int:
        """How many members (itself included) this one sees, once its cluster settled."""
        status = httpx.get(f"{self.url}/api/v2/status", timeout=5).json()["cluster"]
        return len(status.get("peers") or []) if status["status"] == "ready" else 0

    def journeys_alerted(self) -> set[str]:
        """The ``journey`` label of every alert it holds and has not seen resolved."""
        alerts = httpx.get(f"{self.url}/api/v2/alerts", timeout=5).json()
        return {alert["labels"].get("journey", "") for alert in alerts}

    def dedup_checks(self) -> float:
        """How often it asked the notification log whether a group was already notified:
        once per group per flush, after its wait for the members ahead of it, and flushes
        of a group run one after another. Two more than before means a whole flush,
        notification included, is over."""
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "alertmanager_nflog_queries_total":
                    return sample.value
        return 0.0


def clustered(tmp: Path, receiver_url: str, size: int = 2) -> list[Alertmanager]:
    """``size`` Alertmanagers peered with each other on loopback, started, each seeing all."""
    members = [
        Alertmanager(tmp, receiver_url, name=f"alertmanager-{index}", cluster=True)
        for index in range(size)
    ]
    for member in members:
        member.peers = [other for other in members if other is not member]
    started: list[Alertmanager] = []
    try:
        for member in members:
            started.append(member.start())
        wait_for_cluster(members)
    except BaseException:
        for member in started:
            member.stop()
        raise
    return members


def wait_for_cluster(members: list[Alertmanager]) -> None:
    """Until every running member reports every running member as a peer."""
    running = [member for member in members if member.running]
    wait_until(
        lambda: all(member.cluster_peers() == len(running) for member in running),
        60,
        f"{len(running)} Alertmanagers to see each other",
    )
