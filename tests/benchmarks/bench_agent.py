"""The agent's own costs, printed (no timed asserts):

1. `/metrics` render time with 50 journeys x 10 steps of series, vs rendering the same
   number of plain samples (the floor prometheus_client itself sets);
2. agent RSS and Chromium process count after N/10 and after N scheduled runs of
   `serve --demo` (default N = 200).

    .venv/bin/python tests/benchmarks/bench_agent.py [--runs 200]
"""

from __future__ import annotations

import argparse
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.metrics import Metrics
from checkout_monitor.results import JourneyResult, StepResult, StepStatus

BIN = Path(sys.executable).parent


def render_benchmark() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry, "bench")
    for j in range(50):
        for run in range(5):
            steps = [StepResult(f"step {s}", StepStatus.PASSED, 0.1 * s) for s in range(9)] + [
                StepResult("step 9", StepStatus.FAILED, 1.0, FailureKind.TIMEOUT, "slow")
            ]
            metrics.observe(
                JourneyResult(
                    f"journey-{j}", "j", "shop", "bench", datetime.now(UTC), 3.0 + run,
                    tuple(steps),
                )
            )  # fmt: skip
    text = generate_latest(registry)
    samples = sum(1 for line in text.splitlines() if line and not line.startswith(b"#"))
    plain = CollectorRegistry()
    gauge = Gauge("plain", "plain", ["i"], registry=plain)
    for i in range(samples):
        gauge.labels(str(i)).set(i)
    for name, reg in (("checkout-monitor", registry), ("plain gauge", plain)):
        start = time.perf_counter()
        for _ in range(20):
            generate_latest(reg)
        took = (time.perf_counter() - start) / 20
        print(f"  /metrics render, {name:<17} {samples} samples: {took * 1000:6.1f} ms")


def rss_kib(pid: int) -> int:
    match = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    return int(match[1]) if match else 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        ppid = re.search(r"PPid:\s+(\d+)", text)
        if ppid:
            children.setdefault(int(ppid[1]), []).append(int(status.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def chromium_processes(pid: int) -> tuple[int, int]:
    count = rss = 0
    for child in descendants(pid):
        try:
            if "chrom" in Path(f"/proc/{child}/comm").read_text():
                count += 1
                rss += rss_kib(child)
        except OSError:
            continue
    return count, rss


def soak_benchmark(runs: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    agent = subprocess.Popen(
        [str(BIN / "checkout-monitor"), "serve", "--demo", "--interval", "1s",
         "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        marks = sorted({max(1, runs // 10), runs})
        start = time.monotonic()
        for mark in marks:
            while True:
                time.sleep(1)
                try:
                    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
                except httpx.TransportError:
                    continue
                done = sum(
                    float(v)
                    for v in re.findall(r"^checkout_journey_runs_total\{.*\} (\S+)$", text, re.M)
                )
                if done >= mark:
                    break
            count, chrome_rss = chromium_processes(agent.pid)
            print(
                f"  after {int(done):4d} runs ({time.monotonic() - start:5.0f} s): agent RSS "
                f"{rss_kib(agent.pid) / 1024:6.1f} MiB, Chromium {count} processes, "
                f"{chrome_rss / 1024:6.1f} MiB"
            )
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=60)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print("metrics rendering")
    render_benchmark()
    print(f"serve --demo, {args.runs} scheduled journey runs")
    soak_benchmark(args.runs)
