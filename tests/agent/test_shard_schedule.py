"""A sharded agent's schedule and series, at start and after a reload: slots only for the
journeys its shard owns, the interval and info of the journeys it owns or is the runner-up
for (two agents per journey, never all of them), and the series of a journey no longer
configured removed. Nothing runs here: no browser is needed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from checkout_monitor.agent.scheduler import Agent
from checkout_monitor.agent.sharding import Shard, exporters, owner, split, weight
from checkout_monitor.agent.status_server import Readiness
from checkout_monitor.config.loader import load_config
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.run.monitors_loader import load_monitors
from checkout_monitor.run.plan import PlannedJourney, plan_journeys
from support.cli_support import REPO

LOC = "lab"


def write(path: Path, names: list[str]) -> None:
    document = {
        "location": LOC,
        "storefronts": {"shop": {"extends": "demo", "base_url": "http://127.0.0.1:9"}},
        "journeys": [
            {"journey": "product-images", "name": name, "storefront": "shop", "interval": "30s"}
            for name in names
        ],
        "alerting": {"enabled": False},
        "history": {"enabled": False},
        "artifacts": {"dir": str(path.parent / "artifacts")},
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def agent_on(config: Path, shard: Shard) -> tuple[Agent, CollectorRegistry]:
    def load() -> tuple[LoadedConfig, list[PlannedJourney]]:
        loaded = load_config(config)
        return loaded, plan_journeys(loaded, load_monitors(REPO / "monitors"))

    registry = CollectorRegistry()
    return Agent(load, Metrics(registry, LOC), Readiness(), shard=shard), registry


def samples(registry: CollectorRegistry, family: str) -> set[tuple[str, ...]]:
    found = set()
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == family:
                found.add(tuple(f"{k}={v}" for k, v in sorted(sample.labels.items())))
    return found


def owned(registry: CollectorRegistry) -> set[str]:
    rows = samples(registry, "checkout_journey_owned")
    return {dict(item.split("=", 1) for item in row)["journey"] for row in rows}


def configured(registry: CollectorRegistry, family: str) -> set[str]:
    rows = samples(registry, family)
    return {dict(item.split("=", 1) for item in row)["journey"] for row in rows}


def test_slots_and_series_follow_the_shard_at_start_and_on_reload(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "checkout_monitor.agent")
    config = tmp_path / "config.yaml"
    first = [f"shop-{n:02d}" for n in range(6)]
    write(config, first)
    shard = Shard(0, 4)
    agent, registry = agent_on(config, shard)
    mine = split(first, 4)[0]
    assert sorted(agent._slots) == sorted(mine) and mine
    assert owned(registry) == set(mine)
    assert samples(registry, "checkout_agent_shard_info") == {
        ("location=lab", "shard=0", "shards=4")
    }
    kept = {name for name in first if 0 in exporters(name, 4)}
    assert set(mine) <= kept  # its own, and those it is the runner-up for
    assert configured(registry, "checkout_journey_interval_seconds") == kept
    assert configured(registry, "checkout_journey_info") == kept
    assert f"shard 0/4 (location lab): owns {len(mine)} of the 6 configured journeys" in caplog.text

    # the reload drops shop-00 and adds six more: the same shard owns what the split says
    second = [*first[1:], *(f"shop-{n:02d}" for n in range(6, 12))]
    write(config, second)
    agent._reload()
    mine = split(second, 4)[0]
    assert sorted(agent._slots) == sorted(mine)
    assert owned(registry) == set(mine)
    assert "shop-00" not in owned(registry)  # it was this shard's; its series is gone
    kept = {name for name in second if 0 in exporters(name, 4)}
    assert configured(registry, "checkout_journey_interval_seconds") == kept
    assert configured(registry, "checkout_journey_info") == kept
    assert f"owns {len(mine)} of the 11 configured journeys" in caplog.text


def test_a_shard_that_owns_nothing_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "config.yaml"
    write(config, ["shop-00", "shop-01", "shop-02", "shop-03", "shop-04", "shop-05"])
    empty = next(
        index for index, names in split([f"shop-{n:02d}" for n in range(6)], 4).items() if not names
    )
    caplog.set_level(logging.WARNING, "checkout_monitor.agent")
    agent, registry = agent_on(config, Shard(empty, 4))
    assert agent._slots == {}
    assert owned(registry) == set()
    assert f"shard {empty}/4 owns none of the 6 configured journeys: it runs nothing" in caplog.text


def test_without_a_shard_every_journey_has_a_slot(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    names = [f"shop-{n:02d}" for n in range(6)]
    write(config, names)
    agent, registry = agent_on(config, Shard(0, 1))
    assert sorted(agent._slots) == names
    assert owned(registry) == set(names)
    assert samples(registry, "checkout_agent_shard_info") == {
        ("location=lab", "shard=0", "shards=1")
    }


def test_each_journey_s_configuration_comes_from_its_owner_and_runner_up(tmp_path: Path) -> None:
    """2 series per journey in a fleet of any size, not one per agent: the owner's, and the
    runner-up's, which still tells Prometheus the journey is configured while the owner is
    down."""
    config = tmp_path / "config.yaml"
    names = [f"shop-{n:02d}" for n in range(12)]
    write(config, names)
    exported: dict[str, list[int]] = {name: [] for name in names}
    for index in range(5):
        _agent, registry = agent_on(config, Shard(index, 5))
        info = configured(registry, "checkout_journey_info")
        assert configured(registry, "checkout_journey_interval_seconds") == info
        for name in info:
            exported[name].append(index)
    for name, shards in exported.items():
        assert len(shards) == 2, (name, shards)
        assert owner(name, 5) in shards
        runner_up = next(shard for shard in shards if shard != owner(name, 5))
        # the runner-up: the shard whose weight is highest after the owner's
        others = [shard for shard in range(5) if shard != owner(name, 5)]
        assert runner_up == max(others, key=lambda shard: weight(shard, name))


def test_an_unsharded_agent_exports_every_journey_s_configuration(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    names = [f"shop-{n:02d}" for n in range(6)]
    write(config, names)
    _agent, registry = agent_on(config, Shard(0, 1))
    assert configured(registry, "checkout_journey_interval_seconds") == set(names)
    assert configured(registry, "checkout_journey_info") == set(names)
