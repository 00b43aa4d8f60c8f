"""A shop nobody can reach: down (a port nobody listens on) or its host name unknown.
Each is a plain `connection_error`, found at once rather than after the step timeout; under
`serve` the agent keeps running, the configured alert reaches its receiver, and the run
passes again when the shop comes back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from checkout_monitor.demo_shop import DemoShop
from support.agent_process import AgentProcess
from support.alert_receivers import AlertReceiver
from support.cli_support import REPO, run_cli, write_shop_config
from support.prometheus_servers import free_port, wait_until

pytestmark = pytest.mark.browser
STEP_TIMEOUT = 20.0  # long on purpose: the failures below must not wait it out


def test_down_and_unresolvable_shops_are_connection_errors_found_at_once(
    tmp_path: Path,
) -> None:
    down = free_port()  # bound then released: nothing listens there now
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "monitors_dir": str(REPO / "monitors"),
                "defaults": {"step_timeout": f"{STEP_TIMEOUT:g}s", "retries": 0},
                "storefronts": {
                    "down": {"extends": "demo", "base_url": f"http://127.0.0.1:{down}"},
                    # .invalid never resolves anywhere (RFC 2606)
                    "unknown": {"extends": "demo", "base_url": "http://shop.invalid"},
                },
                "journeys": [
                    {"journey": "product-to-checkout", "name": "down", "storefront": "down"},
                    {"journey": "product-images", "name": "unknown", "storefront": "unknown"},
                ],
            }
        )
    )
    report = tmp_path / "report.json"
    result = run_cli("run-smoke", "--config", str(config), "--json", str(report))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr

    journeys = {j["name"]: j for j in json.loads(report.read_text())["journeys"]}
    steps = {name: journey["steps"][-1] for name, journey in journeys.items()}
    assert {name: (s["name"], s["failure_kind"]) for name, s in steps.items()} == {
        "down": ("open product page", "connection_error"),
        "unknown": ("open product listing", "connection_error"),
    }
    assert steps["down"]["message"] == (
        "could not reach the shop to open the product page (/products/speckled-mug): nothing "
        f"is listening at 127.0.0.1:{down} (connection refused): the shop or its load "
        "balancer is down (net::ERR_CONNECTION_REFUSED)"
    )
    assert steps["unknown"]["message"] == (
        "could not reach the shop to open the product listing (/): the host name shop.invalid "
        "does not resolve in DNS (net::ERR_NAME_NOT_RESOLVED)"
    )
    for name, step in steps.items():
        # Chromium gave up on its own (refused, or no such name), not at the step timeout
        assert step["duration_seconds"] < STEP_TIMEOUT / 4, (name, step)
        assert journeys[name]["failure_class"] == "site"
    assert "What to do: The shop could not be reached at all." in result.stdout


def _alerting(tmp_path: Path, receiver: AlertReceiver) -> dict[str, Any]:
    return {
        "state_dir": str(tmp_path / "state"),
        "min_firing": "0s",
        "min_resolved": "0s",
        "rules": [{"name": "shop-unreachable", "consecutive_failures": 1}],
        "channels": {"hook": {"webhook": {"url": f"{receiver.url}/hook"}}},
    }


def test_serve_keeps_running_alerts_and_recovers_when_the_shop_comes_back(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop()
    shop_port, sandbox_port = (
        int(url.rsplit(":", 1)[1]) for url in (shop.shop_url, shop.sandbox_url)
    )
    config = write_shop_config(tmp_path / "c.yaml", shop, defaults={"step_timeout": "4s"})
    shop.stop()  # the shop goes down before the agent ever sees it
    with AlertReceiver() as receiver:
        document = yaml.safe_load(config.read_text())
        document["alerting"] = _alerting(tmp_path, receiver)
        config.write_text(yaml.safe_dump(document))
        with AgentProcess(["--config", str(config), "--interval", "1s"], tmp_path) as agent:
            (firing,) = receiver.wait_for(1, timeout=60)
            alert = firing.json
            assert alert["status"] == "firing"
            assert alert["rule"] == "shop-unreachable"
            assert "step 'open product page' (connection_error)" in alert["summary"]
            assert (
                f"What it saw: could not reach the shop to open the product page "
                f"(/products/speckled-mug): nothing is listening at 127.0.0.1:{shop_port}"
            ) in alert["description"]
            # still serving, still trying
            assert httpx.get(f"{agent.url}/readyz").status_code == 200
            failures = (
                'checkout_step_failures_total{class="site",journey="product-to-checkout",'
                'kind="connection_error",location="test-lab",step="open product page"}'
            )
            wait_until(lambda: _sample(agent.metrics(), failures) >= 2, 30, "a second failure")

            # the shop comes back on the same address
            start_shop(shop_port=shop_port, sandbox_port=sandbox_port, admin_token=shop.admin_token)
            resolved = receiver.wait_for(2, timeout=60)[1].json
            assert resolved["status"] == "resolved"
            assert resolved["alert_id"] == alert["alert_id"]
            success = 'checkout_journey_success{journey="product-to-checkout",location="test-lab"}'
            assert _sample(agent.metrics(), success) == 1
            assert httpx.get(f"{agent.url}/readyz").status_code == 200
            code, _ = agent.stop()
            assert code == 0
            assert "Traceback" not in agent.output()


def _sample(text: str, series: str) -> float:
    """The value of one series in a /metrics page (labels in any order), 0 when absent."""
    name, _, labels = series.partition("{")
    wanted = set(labels.rstrip("}").split(","))
    for line in text.splitlines():
        head, _, value = line.rpartition(" ")
        line_name, _, line_labels = head.partition("{")
        if line_name == name and set(line_labels.rstrip("}").split(",")) == wanted:
            return float(value)
    return 0.0
