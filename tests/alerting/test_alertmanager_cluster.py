"""Highly available alerting: the agent sends every alert to two real Alertmanagers that
gossip as a cluster on loopback, and the receiver is paged exactly once, with both up and
with either of them stopped.

Each phase fires a fresh alert: one of three demo shops has its payment provider switched
down, so that shop's journey fails (a group of its own at Alertmanager; the others keep
passing and earlier alerts keep firing). No alert resolves during the test: a member whose
flush began before a resolve arrived still pages "firing" once the other sent "resolved",
a race of Alertmanager's own that its short test intervals would make likely.

"Exactly once" is judged only after every running member finished a whole deduplication
pass after the page arrived (``settled``): the member second in line waits one peer timeout,
then notifies unless the gossiped notification log says another did, so a duplicate would
have arrived by then.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from checkout_monitor.demo_shop import DemoShop
from support.agent_process import AgentProcess
from support.alert_receivers import AlertReceiver
from support.alertmanager_server import Alertmanager, clustered, wait_for_cluster
from support.cli_support import write_shop_config
from support.prometheus_servers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
INTERVAL = "2s"
RULE = "payment-provider-down"
FAULT = "/admin/faults/payment-provider-down"
PHASES = 3


def ha_config(tmp: Path, shops: list[DemoShop], urls: list[str]) -> Path:
    """One journey per shop, each the payment provider's health check alone (a dry run):
    quick to fail, quick to pass; ``pay-N`` runs against shop N."""
    document: dict[str, Any] = {}
    for index, shop in enumerate(shops):
        one = yaml.safe_load(
            write_shop_config(
                tmp / f"shop-{index}.yaml",
                shop,
                journey={"journey": "payment-sandbox", "place_order": False},
            ).read_text()
        )
        if not document:
            document = {**one, "storefronts": {}, "journeys": []}
        document["storefronts"][f"shop-{index}"] = one["storefronts"]["shop"]
        document["journeys"].append(
            {**one["journeys"][0], "name": f"pay-{index}", "storefront": f"shop-{index}"}
        )
    document["alerting"] = {
        "state_dir": str(tmp / "state"),
        "min_firing": "0s",
        "delivery": {"initial_backoff": "200ms", "max_backoff": "1s", "timeout": "5s"},
        "rules": [{"name": RULE, "consecutive_failures": 1}],
        "channels": {"pager": {"alertmanager": {"urls": urls, "resend_interval": "5s"}}},
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def pages(receiver: AlertReceiver, journey: str) -> int:
    """Firing notifications the Alertmanagers sent the receiver about this journey."""
    return sum(
        1
        for request in receiver.requests
        for alert in request.json["alerts"]
        if alert["labels"]["journey"] == journey and alert["status"] == "firing"
    )


def deliveries(agent: AgentProcess, member: str, result: str) -> float:
    """The agent's count of deliveries to one member of the channel, by result."""
    for family in text_string_to_metric_families(agent.metrics()):
        for sample in family.samples:
            if sample.name == "checkout_alert_deliveries_total" and sample.labels == {
                "channel": "pager",
                "member": member,
                "result": result,
                "location": "test-lab",
            }:
                return sample.value
    return 0.0


def firing(agent: AgentProcess) -> set[str]:
    return {a["journey"] for a in agent.alerts() if a["status"] == "firing"}


def settled(members: list[Alertmanager], receiver: AlertReceiver) -> None:
    """Until each running member finished two more deduplication passes: the first may have
    begun before the page came, the second begins after the first (and its page) ended."""
    running = [member for member in members if member.running]
    before = {member.name: member.dedup_checks() for member in running}
    wait_until(
        lambda: all(member.dedup_checks() >= before[member.name] + 2 for member in running),
        60,
        "every running Alertmanager to finish deduplicating",
    )


def sent(receiver: AlertReceiver) -> list[tuple[str, str, str]]:
    """Who sent what, for a failure message: (the Alertmanager, journey, status)."""
    return [
        (request.json["externalURL"], alert["labels"]["journey"], alert["status"])
        for request in receiver.requests
        for alert in request.json["alerts"]
    ]


def fire(shop: DemoShop, journey: str, agent: AgentProcess, receiver: AlertReceiver) -> None:
    """The shop's payment provider goes down: its journey's alert fires, a page comes."""
    httpx.post(
        f"{shop.shop_url}{FAULT}",
        headers={"Authorization": f"Bearer {shop.admin_token}"},
        timeout=10,
    ).raise_for_status()
    wait_until(lambda: journey in firing(agent), 60, f"the agent to fire for {journey}")
    wait_until(lambda: pages(receiver, journey) >= 1, 60, f"the page for {journey}")


def test_two_clustered_alertmanagers_page_once_with_both_up_and_with_either_stopped(
    tmp_path: Path, start_shop: Any
) -> None:
    shops: list[DemoShop] = [start_shop() for _ in range(PHASES)]
    with AlertReceiver() as receiver:
        members = clustered(tmp_path, f"{receiver.url}/alertmanager")
        first, second = members
        try:
            config = ha_config(tmp_path, shops, [member.url for member in members])
            with AgentProcess(["--config", str(config), "--interval", INTERVAL], tmp_path) as agent:

                def paged_once(*journeys: str) -> None:
                    settled(members, receiver)
                    counts = {journey: pages(receiver, journey) for journey in journeys}
                    assert counts == dict.fromkeys(journeys, 1), sent(receiver)

                # 1. both up: each gets the alert, the receiver one page
                fire(shops[0], "pay-0", agent, receiver)
                paged_once("pay-0")
                assert deliveries(agent, "0", "delivered") >= 1
                assert deliveries(agent, "1", "delivered") >= 1

                # 2. the first stopped: the second pages once; the agent keeps trying the
                # first, and when it is back it takes the alerts and pages nobody again
                first.stop()
                fire(shops[1], "pay-1", agent, receiver)
                paged_once("pay-0", "pay-1")
                wait_until(lambda: deliveries(agent, "0", "failed") >= 1, 30, "a failed try")
                first.start()
                wait_for_cluster(members)
                wait_until(
                    lambda: first.journeys_alerted() >= {"pay-0", "pay-1"}, 60, "the held alert"
                )
                paged_once("pay-0", "pay-1")

                # 3. the second stopped: the first pages once
                second.stop()
                fire(shops[2], "pay-2", agent, receiver)
                paged_once("pay-0", "pay-1", "pay-2")
                wait_until(lambda: deliveries(agent, "1", "failed") >= 1, 30, "a failed try")
                code, _seconds = agent.stop()
                assert code == 0
        finally:
            for member in members:
                member.stop()
