"""The cost of the agent's /metrics, printed (no timed asserts): render time with 50
journeys x 10 steps of series, vs rendering the same number of plain samples (the floor
prometheus_client itself sets). The agent's memory, processes and descriptors over a long
run are bench_soak.py's.

    .venv/bin/python tests/benchmarks/bench_agent.py
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from checkout_monitor.browser.process_stats import AgentProcessWatch
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.results import JourneyResult, StepResult, StepStatus


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
        print(f"  /metrics render, {name:<17} {samples} samples: {render_ms(reg):6.1f} ms")
    # what serve adds to each scrape: process_* and the Chromium figures, read from /proc
    # (here for a process without Chromium: bench_soak.py times whole scrapes of the agent)
    only_process = CollectorRegistry()
    Metrics(only_process, "bench").watch_agent_process(AgentProcessWatch().read)
    took = render_ms(only_process)
    print(f"  /metrics render, the agent's own process series alone: {took:6.1f} ms")


def render_ms(registry: CollectorRegistry) -> float:
    start = time.perf_counter()
    for _ in range(20):
        generate_latest(registry)
    return (time.perf_counter() - start) / 20 * 1000


if __name__ == "__main__":
    print("metrics rendering")
    render_benchmark()
