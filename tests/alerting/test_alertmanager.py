"""The agent against the demo shop, alerting through Debian's real Alertmanager.

A fault switched on at run time pages once; switched off, it resolves once; and an
Alertmanager that is down while the alert fires gets it when it is back, once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from checkout_monitor.demo_shop import DemoShop
from support.agent_process import AgentProcess
from support.alert_receivers import AlertReceiver
from support.alertmanager_server import Alertmanager
from support.cli_support import write_shop_config
from support.prometheus_servers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
INTERVAL = 5.0
RULE = "payment-failing"
RESEND = 5.0  # the Alertmanager channel's resend_interval (its minimum)


def alerting_config(tmp: Path, shop: DemoShop, alertmanager_url: str) -> Path:
    path = write_shop_config(
        tmp / "config.yaml",
        shop,
        journey={"journey": "payment-sandbox", "runbook": "https://runbooks.example.com/pay"},
    )
    document = yaml.safe_load(path.read_text())
    document["alerting"] = {
        "state_dir": str(tmp / "state"),
        "min_firing": "0s",
        "min_resolved": "0s",
        "delivery": {"initial_backoff": "200ms", "max_backoff": "1s"},
        "rules": [
            {
                "name": RULE,
                "journeys": ["payment-*"],
                "consecutive_failures": 2,
                "labels": {"team": "payments"},
            }
        ],
        "channels": {
            "alertmanager": {
                "alertmanager": {"url": alertmanager_url, "resend_interval": f"{RESEND:g}s"}
            }
        },
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def notifications(receiver: AlertReceiver, status: str) -> list[dict[str, Any]]:
    """Alertmanager's webhook posts carrying our rule's alert in the given state."""
    out = []
    for request in receiver.requests:
        body = request.json
        for alert in body["alerts"]:
            if alert["labels"]["alertname"] == RULE and alert["status"] == status:
                out.append(alert)
    return out


def deliveries(agent: AgentProcess, result: str) -> float:
    """The agent's own count of deliveries to Alertmanager with this result."""
    for family in text_string_to_metric_families(agent.metrics()):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "checkout_alert_deliveries_total" and labels["result"] == result:
                return sample.value
    return 0.0


def failed(agent: AgentProcess) -> float:
    return deliveries(agent, "failed")


def delivered(agent: AgentProcess) -> float:
    return deliveries(agent, "delivered")


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> float:
    wait_until(check, seconds, what)
    return time.time()


def test_a_fault_pages_once_resolves_once_and_survives_an_alertmanager_outage(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop()
    admin = httpx.Client(
        base_url=shop.shop_url, headers={"Authorization": f"Bearer {shop.admin_token}"}, timeout=10
    )
    with AlertReceiver() as receiver:
        alertmanager = Alertmanager(tmp_path, f"{receiver.url}/alertmanager").start()
        config = alerting_config(tmp_path, shop, alertmanager.url)
        try:
            with AgentProcess(
                ["--config", str(config), "--interval", f"{INTERVAL:g}s"], tmp_path
            ) as agent:

                def state() -> str:
                    return next(a["status"] for a in agent.alerts() if a["rule"] == RULE)

                # 1. Alertmanager up: the fault pages once, within one interval of firing
                admin.post("/admin/faults/payment-declines").raise_for_status()
                wait_for(lambda: state() == "firing", 60, "the agent to fire")
                arrived = wait_for(
                    lambda: len(notifications(receiver, "firing")) == 1, 30, "the page"
                )
                alert = notifications(receiver, "firing")[0]
                fired = datetime.fromisoformat(alert["startsAt"]).timestamp()
                assert arrived - fired < INTERVAL, f"took {arrived - fired:.1f}s"
                assert alert["labels"]["team"] == "payments"
                assert alert["labels"]["journey"] == "payment-sandbox"
                assert "payment_declined" in alert["annotations"]["summary"]
                assert alert["annotations"]["runbook_url"]
                assert alert["generatorURL"].startswith(agent.url)

                # 2. Alertmanager stopped and started while it fires: nobody paged twice
                alertmanager.stop()
                wait_until(lambda: failed(agent) >= 1, 30, "a re-post to fail")
                sent = delivered(agent)
                alertmanager.start()
                wait_until(lambda: delivered(agent) > sent, 30, "a re-post to arrive")
                time.sleep(1)  # Alertmanager's group_interval
                assert len(notifications(receiver, "firing")) == 1

                # 3. the fault goes away: resolved once
                admin.delete("/admin/faults/payment-declines").raise_for_status()
                wait_for(lambda: len(notifications(receiver, "resolved")) == 1, 60, "resolved")

                # 4. Alertmanager down while a second episode fires: held, then sent once
                alertmanager.stop()
                admin.post("/admin/faults/payment-declines").raise_for_status()
                wait_for(lambda: state() == "firing", 60, "the second episode")
                before = failed(agent)
                wait_until(lambda: failed(agent) > before, 30, "a failed delivery attempt")
                alertmanager.start()
                wait_for(lambda: len(notifications(receiver, "firing")) == 2, 30, "the held page")
                time.sleep(RESEND + 1)  # a re-post keeps it alive, but pages nobody again
                assert len(notifications(receiver, "firing")) == 2

                admin.delete("/admin/faults/payment-declines").raise_for_status()
                wait_for(lambda: len(notifications(receiver, "resolved")) == 2, 60, "resolved")
                code, _seconds = agent.stop()
                assert code == 0
                output = agent.output()
        finally:
            alertmanager.stop()
    assert "ALERT [FIRING] payment-failing: payment-sandbox" in output
    assert "ALERT [RESOLVED] payment-failing: payment-sandbox" in output
    assert "not delivered to alertmanager" in output
