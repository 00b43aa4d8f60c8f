"""``week_over_week_drop_above`` end to end: a real ``serve`` agent whose run history holds
last week's passing runs (seeded at timestamps a week ago, not waited for), the demo shop
declining every card now, and a real webhook receiver that hears the alert exactly once.
Resolving, reloads and unreadable histories are unit tests (test_week_over_week.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
LOCATION = "test-lab"  # write_shop_config's location: the rule reads this agent's runs only


def seed_last_week(path: Path) -> None:
    """Passing runs every 5 seconds from a week and 2 minutes ago to a week and 10 minutes
    from now: the same hour last week holds passes however long the test takes. A failing
    run-smoke run of the same hour is left out (it would make last week's rate lower)."""
    week_ago = datetime.now(UTC) - timedelta(days=7)
    store = HistoryStore(path)
    try:
        for seconds in range(-120, 600, 5):
            run = result_at(
                week_ago + timedelta(seconds=seconds), journey=JOURNEY, location=LOCATION
            )
            store.record(run, source="serve")
        for seconds in range(-120, 600, 5):
            at = week_ago + timedelta(seconds=seconds + 1)
            ci = result_at(at, "failed", journey=JOURNEY, location=LOCATION)
            store.record(ci, source="run-smoke")
    finally:
        store.close()


def agent_config(tmp: Path, shop: DemoShop, history: Path, hook: str) -> Path:
    path = write_shop_config(tmp / "config.yaml", shop)
    document = yaml.safe_load(path.read_text())
    assert document["location"] == LOCATION
    document["journeys"][0]["runbook"] = "https://runbooks.example.com/checkout"
    document["history"] = {"path": str(history)}
    document["alerting"] = {
        "state_dir": str(tmp / "state"),
        "min_firing": "0s",
        "min_resolved": "0s",
        "rules": [
            {"name": RULE, "week_over_week_drop_above": 0.2, "window": "1h", "min_runs": 3},
        ],
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


def notes(receiver: AlertReceiver, status: str) -> list[dict[str, Any]]:
    bodies = [request.json for request in receiver.requests]
    return [body for body in bodies if (body["rule"], body["status"]) == (RULE, status)]


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
            # generous bounds for a loaded machine: each returns as soon as it holds
            wait_until(lambda: notes(receiver, "firing"), 240, f"{RULE} to fire")
            runs_then = failed_runs(agent.metrics())
            # two more failing runs judged: still the one notification (no duplicate)
            wait_until(lambda: failed_runs(agent.metrics()) >= runs_then + 2, 240, "two more runs")
            (alert,) = [a for a in agent.alerts() if a["rule"] == RULE]
            code, _took = agent.stop()
        assert code == 0, agent.output()[-3000:]
        (firing,) = notes(receiver, "firing")
    assert (firing["status"], firing["rule"], firing["journey"]) == ("firing", RULE, JOURNEY)
    assert firing["summary"].startswith(
        f"{JOURNEY} succeeded 0% of runs in the last hour against 100% the same hour last "
        "week (a 100% drop, counting site failures only; the rule fires above 20%)"
    ), firing["summary"]
    assert "Owner: Test team" in firing["description"]
    assert "Runbook: https://runbooks.example.com/checkout" in firing["description"]
    assert "Rule: checkout-dropped (week_over_week_drop_above 0.2)" in firing["description"]
    assert alert["status"] == "firing"
    assert alert["last_check"].startswith(f"{JOURNEY} succeeded 0% of runs in the last hour")
    assert "Traceback" not in agent.output()
