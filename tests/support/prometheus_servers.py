"""Debian's real Prometheus and Pushgateway, started on free loopback ports and stopped after."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"gave up after {seconds:.0f}s waiting for {what}")


class Server:
    """One started process and its URL; ``stop()`` ends exactly that process."""

    def __init__(self, args: list[str], url: str, ready_path: str, log: Path) -> None:
        self.url = url
        self._log = log.open("w")
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(
            lambda: httpx.get(url + ready_path, timeout=2).status_code == 200,
            30,
            f"{args[0]} at {url}",
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self._log.close()


def start_prometheus(
    tmp: Path,
    scrape_target: str | Sequence[str],
    rule_file: Path | None = None,
    *,
    scrape: Mapping[str, Any] | None = None,
) -> Server:
    """Prometheus scraping one target or several (and evaluating ``rule_file``), both every
    second.

    ``scrape``: more keys for the scrape job, e.g. scheme, tls_config, basic_auth."""
    port = free_port()
    config = tmp / "prometheus.yml"
    job = {
        "job_name": "checkout-monitor",
        **(scrape or {}),
        "static_configs": [{"targets": _targets(scrape_target)}],
    }
    document: dict[str, Any] = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}}
    if rule_file:
        document["rule_files"] = [str(rule_file)]
    document["scrape_configs"] = [job]
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    return Server(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        f"http://127.0.0.1:{port}",
        "/-/ready",
        tmp / "prometheus.log",
    )


def _targets(given: str | Sequence[str]) -> list[str]:
    return [given] if isinstance(given, str) else list(given)


def start_pushgateway(tmp: Path) -> Server:
    port = free_port()
    binary = shutil.which("prometheus-pushgateway") or "/usr/bin/prometheus-pushgateway"
    return Server(
        [binary, f"--web.listen-address=127.0.0.1:{port}"],
        f"http://127.0.0.1:{port}",
        "/-/ready",
        tmp / "pushgateway.log",
    )


def query(prometheus: Server, promql: str, at: float | None = None) -> list[dict[str, Any]]:
    """An instant query, now or ``at`` a Unix time."""
    params = {"query": promql} if at is None else {"query": promql, "time": str(at)}
    answer = httpx.get(f"{prometheus.url}/api/v1/query", params=params, timeout=5)
    answer.raise_for_status()
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


def alerts(prometheus: Server) -> list[dict[str, Any]]:
    """Every alert Prometheus holds now, pending or firing (GET /api/v1/alerts)."""
    answer = httpx.get(f"{prometheus.url}/api/v1/alerts", timeout=5)
    answer.raise_for_status()
    result: list[dict[str, Any]] = answer.json()["data"]["alerts"]
    return result
