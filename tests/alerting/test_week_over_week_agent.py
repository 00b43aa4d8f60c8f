"""``week_over_week_drop_above`` end to end: a real ``serve`` agent whose run history holds
last week's passing runs (seeded at timestamps a week ago, not waited for), the demo shop
declining every card now, and a real webhook receiver that hears the alert exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.history import HistoryStore
from support.agent_process import AgentProcess
from support.alert_receivers import AlertReceiver
from support.cli_support import write_shop_config
from support.history_seed import result_at
from support.prometheus_servers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

JOURNEY = "product-to-checkout"
RULE = "checkout-dropped"


def seed_last_week(path: Path) -> None:
    """Passing runs every 5 minutes from a week and an hour ago to a week and 20 minutes
    from now: the same hour last week is full of passes however long the test takes."""
    week_ago = datetime.now(UTC) - timedelta(days=7)
    store = HistoryStore(path)
    try:
        for minutes in range(-60, 25, 5):
            store.record(
                result_at(week_ago + timedelta(minutes=minutes), journey=JOURNEY),
                source="serve",
            )
    finally:
        store.close()


def agent_config(tmp: Path, shop: DemoShop, history: Path, hook: str) -> Path:
    path = write_shop_config(tmp / "config.yaml", shop)
    document = yaml.safe_load(path.read_text())
    document["journeys"][0]["runbook"] = "https://runbooks.example.com/checkout"
    document["history"] = {"path": str(history)}
    document["alerting"] = {
        "state_dir": str(tmp / "state"),
        "rules": [{"name": RULE, "week_over_week_drop_above": 0.2, "window": "1h", "min_runs": 3}],
        "monitor_unhealthy": {"enabled": False},
        "channels": {"hook": {"webhook": {"url": f"{hook}/hook"}}},
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def failed_runs(metrics: str) -> float:
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "checkout_journey_runs_total" and sample.labels.get("result") == (
                "failure"
            ):
                return sample.value
    return 0.0


def test_a_seeded_week_fires_the_week_over_week_alert_to_a_real_receiver(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    history = tmp_path / "history.sqlite3"
    seed_last_week(history)
    shop = start_shop()
    shop.faults.enable("payment-declines")
    with AlertReceiver() as receiver:
        config = agent_config(tmp_path, shop, history, receiver.url)
        with AgentProcess(["--config", str(config), "--interval", "1s"], tmp_path) as agent:
            (firing,) = receiver.wait_for(1, timeout=120)
            runs_then = failed_runs(agent.metrics())
            # two more failing runs judged: still the one notification (no duplicate)
            wait_until(lambda: failed_runs(agent.metrics()) >= runs_then + 2, 120, "two more runs")
            (alert,) = [a for a in agent.alerts() if a["rule"] == RULE]
            code, _took = agent.stop()
        assert code == 0, agent.output()[-3000:]
        assert len(receiver.requests) == 1, [r.json["summary"] for r in receiver.requests]
    body = firing.json
    assert (body["status"], body["rule"], body["journey"]) == ("firing", RULE, JOURNEY)
    assert body["summary"].startswith(
        f"{JOURNEY} succeeded 0% of runs in the last hour against 100% the same hour last "
        "week (a 100% drop; the rule fires above 20%)"
    ), body["summary"]
    assert "Owner: Test team" in body["description"]
    assert "Runbook: https://runbooks.example.com/checkout" in body["description"]
    assert "Rule: checkout-dropped (week_over_week_drop_above 0.2)" in body["description"]
    assert alert["status"] == "firing"
    assert alert["last_check"].startswith(f"{JOURNEY} succeeded 0% of runs in the last hour")
    assert "Traceback" not in agent.output()
