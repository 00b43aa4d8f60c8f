"""The agent's schedule, watched from inside while it runs real journeys: never more runs
at once than configured, never one journey overlapping itself, each at its own interval."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from checkout_monitor.agent.scheduler import Agent
from checkout_monitor.agent.status_server import Readiness
from checkout_monitor.config.loader import load_config
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.run.monitors_loader import load_monitors
from checkout_monitor.run.plan import PlannedJourney, plan_journeys
from support.cli_support import REPO, write_shop_config

pytestmark = pytest.mark.browser


def test_concurrency_bound_and_no_overlap(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop(
        faults=["slow-product-page"], fault_params={"slow-product-page": {"delay_seconds": 1}}
    )
    config = write_shop_config(tmp_path / "c.yaml", shop, defaults={"step_timeout": "5s"})
    text = config.read_text()
    text = text.replace("journeys:\n", "journeys:\n" + _extra_journeys(), 1)
    config.write_text(text + "agent:\n  max_concurrent_journeys: 2\n  jitter: 0\n")

    def load() -> tuple[LoadedConfig, list[PlannedJourney]]:
        loaded = load_config(config)
        loaded.interval_override = 1.0
        return loaded, plan_journeys(loaded, load_monitors(REPO / "monitors"))

    registry = CollectorRegistry()
    metrics = Metrics(registry, "test-lab")
    readiness = Readiness()

    async def watch() -> tuple[int, int]:
        agent = Agent(load, metrics, readiness)
        running = asyncio.create_task(agent.run())
        most = 0
        for _ in range(300):  # 15 s, sampled every 50 ms: each run walks a whole checkout
            await asyncio.sleep(0.05)
            in_flight = [
                name
                for name, slot in agent._slots.items()
                if slot.task is not None and not slot.task.done()
            ]
            assert len(in_flight) == len(set(in_flight))
            most = max(most, len(in_flight))
        agent.request_stop()
        await running
        runs = sum(
            registry.get_sample_value(
                "checkout_journey_runs_total",
                {"journey": name, "result": "success", "location": "test-lab"},
            )
            or 0
            for name in ("a", "b", "c")
        )
        return most, int(runs)

    most, runs = asyncio.run(watch())
    assert most == 2  # three journeys due every second, two at a time
    assert runs >= 4  # three journeys, so at least one ran again: runs keep being scheduled


def _extra_journeys() -> str:
    return "".join(
        f"- journey: product-to-checkout\n  name: {name}\n  storefront: shop\n"
        for name in ("a", "b", "c")
    )
