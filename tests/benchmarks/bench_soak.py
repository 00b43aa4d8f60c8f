"""Soak: `serve --demo` (the four demo journeys, 1 s interval, browser recycling at its
default) until N journey runs have completed, read from its own /metrics. Prints the agent's
RSS and open file descriptors, the Chromium process count and summed RSS, and zombies after
N/10 (at most 100) runs and after N, with the growth between the two. Goal: under 10%
growth, no zombies. Prints figures, asserts nothing.

    .venv/bin/python tests/benchmarks/bench_soak.py [--runs 1000]

Each figure is the median of five reads a second apart: a tab opening or closing moves the
Chromium figures by a process or two from one second to the next.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

BIN = Path(sys.executable).parent
TAG = "CHECKOUT_MONITOR_SOAK_TAG"  # inherited by every process the agent starts, orphans too
FIGURES = (
    ("agent RSS", "process_resident_memory_bytes", "MiB"),
    ("Chromium RSS (summed)", "checkout_browser_resident_memory_bytes", "MiB"),
    ("Chromium processes", "checkout_browser_processes", ""),
    ("agent open FDs", "process_open_fds", ""),
    ("zombie processes", "checkout_agent_zombie_processes", ""),
    ("/metrics scrape", "scrape_seconds", "ms"),
)


def totals(text: str) -> dict[str, float]:
    """Every sample name summed over its label sets; failed runs apart, as "failed_runs"."""
    summed: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            summed[sample.name] = summed.get(sample.name, 0.0) + sample.value
            if (
                sample.name == "checkout_journey_runs_total"
                and sample.labels["result"] != "success"
            ):
                summed["failed_runs"] = summed.get("failed_runs", 0.0) + sample.value
    return summed


@dataclass
class Agent:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def metrics(self) -> dict[str, float]:
        start = time.perf_counter()
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        return {**totals(text), "scrape_seconds": time.perf_counter() - start}

    def runs(self) -> float:
        return self.metrics().get("checkout_journey_runs_total", 0.0)


def start_agent(folder: Path, tag: str) -> Agent:
    port = _free_port()
    log = folder / "agent.log"
    process = subprocess.Popen(
        [str(BIN / "checkout-monitor"), "serve", "--demo", "--interval", "1s",
         "--listen", f"127.0.0.1:{port}"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=folder,
        env={**os.environ, TAG: tag, "CHECKOUT_MONITOR_ARTIFACTS_DIR": str(folder / "artifacts")},
    )  # fmt: skip
    agent = Agent(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{agent.url}/readyz", timeout=5).status_code == 200:
                return agent
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.5)
    process.kill()
    sys.exit(f"the agent did not get ready:\n{log.read_text()[-3000:]}")


def _free_port() -> int:
    import socket  # noqa: PLC0415 (only here)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_runs(agent: Agent, runs: int, started: float) -> None:
    last_said = 0.0
    while (done := agent.runs()) < runs:
        if agent.process.poll() is not None:
            sys.exit(f"the agent exited:\n{agent.log.read_text()[-3000:]}")
        if time.monotonic() - last_said > 60:
            print(f"    ... {int(done)} runs after {time.monotonic() - started:.0f} s", flush=True)
            last_said = time.monotonic()
        time.sleep(2)


def measure(agent: Agent) -> dict[str, float]:
    """The median of five reads a second apart, for each figure."""
    reads = []
    for _ in range(5):
        reads.append(agent.metrics())
        time.sleep(1)
    return {
        metric: statistics.median(read.get(metric, 0.0) for read in reads)
        for _label, metric, _unit in FIGURES
    }


def show(value: float, unit: str) -> str:
    if unit == "MiB":
        return f"{value / 2**20:8.1f} MiB"
    if unit == "ms":
        return f"{value * 1000:8.1f} ms "
    return f"{value:8.0f}    "


def tagged_processes(tag: str, but: int) -> list[str]:
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != but:
            try:
                if f"{TAG}={tag}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    left.append(f"{entry.name} {(entry / 'comm').read_text().strip()}")
            except OSError:
                continue
    return left


def soak(runs: int) -> None:
    first = min(100, max(1, runs // 10))
    tag = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="checkout-monitor-soak-") as folder:
        agent = start_agent(Path(folder), tag)
        started = time.monotonic()
        try:
            marks = {}
            for mark in (first, runs):
                wait_for_runs(agent, mark, started)
                done = agent.runs()
                marks[mark] = measure(agent)
                print(f"  after {int(done)} runs ({time.monotonic() - started:.0f} s)", flush=True)
            end = agent.metrics()
        finally:
            agent.process.send_signal(signal.SIGTERM)
            code = agent.process.wait(timeout=90)
        time.sleep(3)  # Chromium's crash handlers leave a moment after their browser
        left = tagged_processes(tag, agent.process.pid)
        log = agent.log.read_text()

    print(f"\n  {'':<24}{f'at {first} runs':>14}{f'at {runs} runs':>14}{'growth':>10}")
    for label, metric, unit in FIGURES:
        before, after = marks[first][metric], marks[runs][metric]
        growth = f"{(after - before) / before * 100:+8.1f}%" if before else "       -"
        print(f"  {label:<24}{show(before, unit):>14}{show(after, unit):>14}{growth:>10}")
    print(
        f"\n  runs {int(end.get('checkout_journey_runs_total', 0))}, "
        f"failed {int(end.get('failed_runs', 0))}; "
        f"browser recycles {int(end.get('checkout_browser_recycles_total', 0))}, "
        f"restarts {int(end.get('checkout_browser_restarts_total', 0))}; "
        f"scheduler lag mean "
        f"{_mean(end, 'checkout_agent_scheduler_lag_seconds') * 1000:.1f} ms"
    )
    print(
        f"  stopped with exit code {code}; processes left behind: {len(left)}"
        + (f" ({', '.join(left)})" if left else "")
        + ("; Traceback in the log!" if "Traceback" in log else "")
    )
    print("  goal: growth under 10%, no zombies, nothing left behind")


def _mean(summed: dict[str, float], name: str) -> float:
    count = summed.get(f"{name}_count", 0.0)
    return summed.get(f"{name}_sum", 0.0) / count if count else 0.0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="journey runs to soak (1000)")
    args = parser.parse_args()
    print(f"soak: serve --demo until {args.runs} journey runs have completed")
    soak(args.runs)
