"""One config run from two locations, and a real Prometheus alerting on both from the rules
``checkout-monitor rules`` writes from that same config.

Two ``serve`` agents share one config file; each takes its ``location`` from
``$CHECKOUT_MONITOR_LOCATION`` and reaches the demo shop through its own TCP relay (its own
network path, named by ``$SHOP_URL``). Cutting a relay is a real network cut: ``us``'s cut
fires the per-location alert for ``us`` only, and not the ``locations_failing: 2`` alert;
cutting ``eu`` too fires that one, once for the journey, naming the count.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from checkout_monitor.demo_shop import DemoShop
from support.agent_process import AgentProcess
from support.cli_support import ARTIFACTS, REPO, run_cli
from support.prometheus_servers import Server, alerts, query, start_prometheus, wait_until
from support.tcp_relay import TcpRelay

pytestmark = [pytest.mark.browser, pytest.mark.slow]

JOURNEY = "product-images"
PER_LOCATION = "journey-failing"  # the config's rule: one alert per (journey, location)
IN_LOCATIONS = "CheckoutJourneyFailingInLocations"  # alerting.prometheus.locations_failing
RUN_WAIT = 90.0  # a 10s interval, a run, a scrape and an evaluation, on a busy machine


def _shared_config(path: Path) -> Path:
    """The one config both agents run: nothing in it says which location it is."""
    document = {
        "location": "${CHECKOUT_MONITOR_LOCATION}",
        "monitors_dir": str(REPO / "monitors"),
        # a cut is reset at once; a generous step timeout keeps a slow machine from failing eu
        "defaults": {"interval": "10s", "step_timeout": "20s", "retries": 0},
        "storefronts": {"shop": {"extends": "demo", "base_url": "${SHOP_URL}"}},
        "journeys": [{"journey": JOURNEY, "storefront": "shop", "owner": "Web team"}],
        "alerting": {
            "enabled": False,  # Prometheus alerts, from the generated rules
            "rules": [{"name": PER_LOCATION, "consecutive_failures": 1}],
            "prometheus": {"locations_failing": 2},
        },
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def relays(start_shop: Callable[..., DemoShop]) -> Iterator[dict[str, TcpRelay]]:
    """One demo shop, and each location's own way to it."""
    shop = start_shop()
    port = int(shop.shop_url.rsplit(":", 1)[1])
    with TcpRelay("127.0.0.1", port) as eu, TcpRelay("127.0.0.1", port) as us:
        yield {"eu": eu, "us": us}


def _firing(prometheus: Server, name: str) -> list[dict[str, Any]]:
    return [
        alert
        for alert in alerts(prometheus)
        if alert["labels"]["alertname"] == name and alert["state"] == "firing"
    ]


def _evaluated_after(prometheus: Server, moment: float) -> bool:
    """Has every rule group been evaluated since ``moment`` (a Unix time)?"""
    answer = httpx.get(f"{prometheus.url}/api/v1/rules", timeout=5).json()
    groups = answer["data"]["groups"]
    return bool(groups) and all(_unix(group["lastEvaluation"]) > moment for group in groups)


def _unix(rfc3339: str) -> float:
    """Prometheus writes nanoseconds; Python reads up to microseconds."""
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", rfc3339).replace("Z", "+00:00")
    return datetime.fromisoformat(trimmed).timestamp()


def _ran_since(prometheus: Server, location: str, moment: float, success: int) -> bool:
    """Has ``location`` finished a run since ``moment`` whose result was ``success``?"""
    ran = query(
        prometheus,
        f'checkout_journey_last_run_timestamp_seconds{{location="{location}"}} > {moment}',
    )
    passed = query(prometheus, f'checkout_journey_success{{location="{location}"}} == {success}')
    return bool(ran) and bool(passed)


def test_one_config_two_locations_alert_per_location_and_in_both(
    tmp_path: Path, relays: dict[str, TcpRelay], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _shared_config(tmp_path / "config.yaml")
    rule_file = tmp_path / "rules.yml"
    # no location and no shop URL set: the rules need neither
    for name in ("CHECKOUT_MONITOR_LOCATION", "SHOP_URL"):
        monkeypatch.delenv(name, raising=False)
    written = run_cli(
        "checkout-monitor", "rules", "--config", str(config), "--output", str(rule_file)
    )
    assert written.returncode == 0, written.stderr

    with ExitStack() as stack:
        agents: dict[str, AgentProcess] = {}
        for location, relay in relays.items():
            home = tmp_path / location
            home.mkdir()
            env = {
                "CHECKOUT_MONITOR_LOCATION": location,
                "SHOP_URL": f"http://127.0.0.1:{relay.port}",
                "CHECKOUT_MONITOR_STATE_DIR": str(home / "state"),
                "CHECKOUT_MONITOR_ARTIFACTS_DIR": ARTIFACTS,
            }
            agents[location] = stack.enter_context(
                AgentProcess(["--config", str(config)], home, env=env)
            )
        prometheus = start_prometheus(
            tmp_path, [f"127.0.0.1:{agent.port}" for agent in agents.values()], rule_file
        )
        stack.callback(prometheus.stop)

        # both locations pass first: each relay carries its agent's journey
        passing = f'checkout_journey_success{{journey="{JOURNEY}"}} == 1'
        wait_until(
            lambda: {s["metric"]["location"] for s in query(prometheus, passing)} == {"eu", "us"},
            RUN_WAIT,
            "a pass from both locations",
        )

        cut_us = time.time()
        relays["us"].cut()
        wait_until(
            lambda: [a["labels"]["location"] for a in _firing(prometheus, PER_LOCATION)] == ["us"],
            RUN_WAIT,
            f"{PER_LOCATION} to fire for us",
        )
        # eu ran since the cut and passed; Prometheus evaluated the rules since it saw that
        wait_until(lambda: _ran_since(prometheus, "eu", cut_us, 1), RUN_WAIT, "a pass in eu")
        seen = time.time()
        wait_until(lambda: _evaluated_after(prometheus, seen), 30, "a rule evaluation")
        held = {(a["labels"]["alertname"], a["labels"].get("location")) for a in alerts(prometheus)}
        assert (PER_LOCATION, "us") in held
        assert (PER_LOCATION, "eu") not in held
        assert not [name for name, _ in held if name == IN_LOCATIONS], held
        # the shop was not broken, the path to it was: us says so
        refused = 'checkout_step_failures_total{location="us",kind="connection_error"} > 0'
        assert query(prometheus, refused)
        assert not query(prometheus, 'checkout_step_failures_total{location="eu"} > 0')

        relays["eu"].cut()
        wait_until(lambda: _firing(prometheus, IN_LOCATIONS), RUN_WAIT, f"{IN_LOCATIONS}")
        (both,) = [a for a in alerts(prometheus) if a["labels"]["alertname"] == IN_LOCATIONS]
        assert both["labels"] == {
            "alertname": IN_LOCATIONS,
            "journey": JOURNEY,
            "severity": "critical",
            "class": "site",
        }
        assert both["annotations"]["summary"] == f"{JOURNEY} is failing in 2 locations"
        assert both["annotations"]["owner"] == "Web team"
        assert float(both["value"]) == 2
        per_location = {a["labels"]["location"] for a in _firing(prometheus, PER_LOCATION)}
        assert per_location == {"eu", "us"}

        for location, agent in agents.items():
            code, _took = agent.stop()
            assert code == 0, agent.output()
            assert "Traceback" not in agent.output(), location
