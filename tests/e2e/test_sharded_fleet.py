"""The issue's done-when for sharding, from a real Prometheus's view of real agents.

Three `serve` agents (shards 0/3 and 2/3 from --shard, 1/3 from $CHECKOUT_MONITOR_SHARD) on
one config of 12 journeys against the demo shop: each journey is owned and run by exactly
one of them, once per interval, and each journey's interval is exported by two of them (its
owner and the runner-up). Stopping one fires the generated CheckoutJourneyUncovered for
exactly its journeys, once its checkout_journey_owned series went stale while the
runner-ups still export the journeys' intervals. Four agents (x/4) then move only the
journeys the rendezvous hash gives the new shard, never one between the old shards.

The journeys are the cheapest real one (payment-sandbox as a dry run: the provider's health
through the browser context, no page), at the shortest interval a config allows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from checkout_monitor.agent.sharding import owner, split
from checkout_monitor.demo_shop import DemoShop
from support.agent_process import AgentProcess
from support.browser_servers import PlaywrightServer
from support.cli_support import run_cli, write_shop_config
from support.prometheus_servers import Server, alerts, free_port, query, start_prometheus
from support.prometheus_servers import wait_until as wait

pytestmark = [pytest.mark.slow, pytest.mark.browser]

JOURNEYS = [f"payments-{number:02d}" for number in range(12)]
INTERVAL = 10.0  # seconds: the shortest a config allows
WINDOW = 3 * INTERVAL  # as short as proves "once per interval"


def fleet_config(path: Path, shop: DemoShop) -> Path:
    write_shop_config(path, shop)
    document = yaml.safe_load(path.read_text())
    document["journeys"] = [
        {
            "journey": "payment-sandbox",
            "name": name,
            "storefront": "shop",
            "place_order": False,
            "interval": "10s",
        }
        for name in JOURNEYS
    ]
    # Prometheus alerts here (the generated rules); each agent would need its own state
    document["alerting"] = {"enabled": False}
    document["history"] = {"enabled": False}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def values(
    prometheus: Server, promql: str, label: str, at: float | None = None
) -> dict[str, float]:
    return {row["metric"][label]: float(row["value"][1]) for row in query(prometheus, promql, at)}


def owners(prometheus: Server) -> dict[str, tuple[str, str]]:
    """Each journey's (shard, instance), from the live checkout_journey_owned series."""
    rows = query(prometheus, "checkout_journey_owned == 1")
    seen: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        labels = row["metric"]
        seen.setdefault(labels["journey"], []).append((labels["shard"], labels["instance"]))
    assert all(len(found) == 1 for found in seen.values()), seen  # one owner each
    return {journey: found[0] for journey, found in seen.items()}


def uncovered(prometheus: Server) -> set[str]:
    return {
        alert["labels"]["journey"]
        for alert in alerts(prometheus)
        if alert["labels"]["alertname"] == "CheckoutJourneyUncovered" and alert["state"] == "firing"
    }


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[Callable[..., AgentProcess]]:
    """Start agents, each with its own artifacts folder; every one is stopped after."""
    with ExitStack() as stack:

        def start(shard_args: list[str], env: dict[str, str], port: int) -> AgentProcess:
            own = tmp_path / f"agent-{port}"
            own.mkdir(exist_ok=True)
            folders = {"CHECKOUT_MONITOR_ARTIFACTS_DIR": str(own / "artifacts")}
            agent = AgentProcess(
                ["--config", str(tmp_path / "config.yaml"), *shard_args],
                tmp_path,
                env={**folders, **env},
                port=port,
            )
            return stack.enter_context(agent)

        yield start


def test_three_agents_run_each_journey_once_and_a_fourth_moves_only_its_share(
    tmp_path: Path, start_shop: Callable[..., DemoShop], agents: Callable[..., AgentProcess]
) -> None:
    config = fleet_config(tmp_path / "config.yaml", start_shop())
    rule_file = tmp_path / "rules.yml"
    written = run_cli(
        "checkout-monitor", "rules", "--config", str(config), "--output", str(rule_file)
    )
    assert written.returncode == 0, written.stderr
    ports = [free_port() for _ in range(4)]  # the fourth is for the fourth agent, later
    three = [
        agents(["--shard", "0/3"], {}, ports[0]),
        agents([], {"CHECKOUT_MONITOR_SHARD": "1/3"}, ports[1]),
        agents(["--shard", "2/3"], {}, ports[2]),
    ]
    instance = {f"127.0.0.1:{port}": str(index) for index, port in enumerate(ports)}
    expected = split(JOURNEYS, 3)
    for index, agent in enumerate(three):
        mine = len(expected[index])
        assert f"shard {index}/3 (location test-lab): owns {mine} of the 12" in agent.output()
    prometheus = start_prometheus(tmp_path, list(instance), rule_file)
    try:
        # --- each journey owned and run by exactly one agent ---------------------------------
        wait(lambda: len(owners(prometheus)) == 12, 60, "every journey's owner in Prometheus")
        owned = owners(prometheus)
        assert {j: shard for j, (shard, _i) in owned.items()} == {
            j: str(owner(j, 3)) for j in JOURNEYS
        }
        assert all(instance[where] == shard for shard, where in owned.values())
        shards = query(prometheus, "checkout_agent_shard_info")
        assert sorted((s["metric"]["shard"], s["metric"]["shards"]) for s in shards) == [
            ("0", "3"),
            ("1", "3"),
            ("2", "3"),
        ]
        # each journey's owner and runner-up tell Prometheus it is configured: two, not all
        assert values(
            prometheus, "count by (journey) (checkout_journey_interval_seconds)", "journey"
        ) == {journey: 2.0 for journey in JOURNEYS}
        ran_by = "count by (journey) (count by (journey, instance) (checkout_journey_runs_total))"
        wait(lambda: len(values(prometheus, ran_by, "journey")) == 12, 90, "a run of each")
        start = time.time()
        runs = "sum by (journey) (checkout_journey_runs_total)"
        before = values(prometheus, runs, "journey", start)
        wait(lambda: time.time() > start + WINDOW + 2, WINDOW + 10, "the window")
        after = values(prometheus, runs, "journey", start + WINDOW)
        assert values(prometheus, ran_by, "journey") == {journey: 1.0 for journey in JOURNEYS}
        for journey in JOURNEYS:  # once per interval: never twice (10% jitter), never none
            assert 1 <= after[journey] - before[journey] <= WINDOW / INTERVAL + 1, (
                journey,
                before,
                after,
            )
        assert uncovered(prometheus) == set()

        # --- one shard stops: the alert fires for exactly its journeys -------------------------
        # (its owned series go stale at the first failed scrape; the alert holds one interval)
        three[1].stop()
        wait(
            lambda: uncovered(prometheus) >= set(expected[1]),
            4 * INTERVAL + 30,
            "CheckoutJourneyUncovered for shard 1's journeys",
        )
        assert uncovered(prometheus) == set(expected[1])

        # --- four agents: only the new shard's journeys move ----------------------------------
        for agent in (three[0], three[2]):
            agent.stop()
        four = [agents(["--shard", f"{index}/4"], {}, ports[index]) for index in range(4)]
        newcomer = split(JOURNEYS, 4)[3]
        assert f"shard 3/4 (location test-lab): owns {len(newcomer)} of the 12" in four[3].output()
        wait(
            lambda: (
                len(query(prometheus, 'checkout_agent_shard_info{shards="4"}')) == 4
                and not query(prometheus, 'checkout_agent_shard_info{shards="3"}')
                and len(owners(prometheus)) == 12
            ),
            60,
            "four shards in Prometheus",
        )
        now = owners(prometheus)
        moved = {j for j in JOURNEYS if now[j][0] != owned[j][0]}
        assert moved == set(newcomer)  # what the rendezvous hash says: 2 of these 12
        assert 1 <= len(moved) <= 5  # about a quarter: the 1000-name test pins the share
        assert all(now[j][0] == "3" for j in moved)  # never from one old shard to another
        assert all(instance[where] == shard for shard, where in now.values())
        wait(
            lambda: values(prometheus, ran_by, "journey") == {j: 1.0 for j in JOURNEYS},
            60,
            "each journey run by exactly one of the four",
        )
        ran_where = query(prometheus, "count by (journey, instance) (checkout_journey_runs_total)")
        assert {r["metric"]["journey"]: instance[r["metric"]["instance"]] for r in ran_where} == {
            j: str(owner(j, 4)) for j in JOURNEYS
        }
        wait(lambda: uncovered(prometheus) == set(), 4 * INTERVAL + 30, "the alerts resolved")
        for agent in four:
            code, _seconds = agent.stop()
            assert code == 0, agent.output()
            assert "Traceback" not in agent.output()
    finally:
        prometheus.stop()


def test_an_agent_whose_browser_is_a_playwright_run_server_passes_the_same_journeys(
    tmp_path: Path, start_shop: Callable[..., DemoShop], agents: Callable[..., AgentProcess]
) -> None:
    """The fleet's config with ``browser.remote``: shard 1/3 runs its share of the 12
    journeys in the browser a real ``playwright run-server`` launched, and each passes."""
    config = fleet_config(tmp_path / "config.yaml", start_shop())
    server = PlaywrightServer(tmp_path)
    try:
        document = yaml.safe_load(config.read_text())
        document["browser"] = {"remote": {"protocol": "playwright", "url": server.url}}
        config.write_text(yaml.safe_dump(document, sort_keys=False))
        agent = agents(["--shard", "1/3"], {}, free_port())
        mine = split(JOURNEYS, 3)[1]
        assert mine, "shard 1 of 3 owns none of the 12 journeys"

        def runs(result: str) -> dict[str, float]:
            counts = {journey: 0.0 for journey in JOURNEYS}
            for family in text_string_to_metric_families(agent.metrics()):
                for sample in family.samples:
                    if sample.name == "checkout_journey_runs_total" and (
                        sample.labels.get("result") == result
                    ):
                        counts[sample.labels["journey"]] = sample.value
            return counts

        wait(lambda: all(runs("success")[j] >= 1 for j in mine), 60, "each owned journey to pass")
        assert runs("failure") == dict.fromkeys(JOURNEYS, 0.0)
        assert {j for j, count in runs("success").items() if count} == set(mine)  # its share
        assert server.launches(), "the run-server launched no browser: the agent launched its own"
    finally:
        server.kill()
