"""The deploy/ examples stay valid: Prometheus config, alert rules and their unit tests,
Alertmanager config, the agent config, and the Kubernetes ConfigMap's copy of it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from cli_support import REPO, run_cli

DEPLOY = REPO / "deploy"


@pytest.mark.parametrize(
    ("command", "cwd"),
    [
        (["promtool", "check", "config", "prometheus.yml"], DEPLOY / "prometheus"),
        (["promtool", "check", "rules", "alert-rules.yml"], DEPLOY / "prometheus"),
        (["promtool", "test", "rules", "alert-rules.test.yml"], DEPLOY / "prometheus"),
        (["amtool", "check-config", "alertmanager.yml"], DEPLOY / "alertmanager"),
    ],
    ids=["prometheus-config", "alert-rules", "alert-rule-tests", "alertmanager-config"],
)
def test_prometheus_tools_accept(command: list[str], cwd: Path) -> None:
    checked = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_agent_config_is_valid() -> None:
    result = run_cli(
        "checkout-monitor", "validate", "deploy/config.yaml", "--monitors", "monitors",
        env={"DEMO_SHOP_ADMIN_TOKEN": "t"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_kubernetes_configmap_carries_the_same_config() -> None:
    documents = list(
        yaml.safe_load_all((DEPLOY / "kubernetes" / "checkout-monitor.yaml").read_text())
    )
    (configmap,) = [d for d in documents if d and d["kind"] == "ConfigMap"]
    assert configmap["data"]["config.yaml"] == (DEPLOY / "config.yaml").read_text()
    kinds = {d["kind"] for d in documents if d}
    assert {"Deployment", "Service", "ConfigMap"} <= kinds
    yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
