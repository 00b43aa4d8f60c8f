"""The deploy/ examples stay valid and agree: Prometheus config, alert rules and their unit
tests, Alertmanager config and routes, the agent config, the alert state folder of the image
and compose, and a runbook per alert. Kubernetes: test_kubernetes.py."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import bcrypt
import pytest
import yaml

from checkout_monitor.config.web_config import load_web_config
from support.cli_support import REPO, run_cli

DEPLOY = REPO / "deploy"
STATE_DIR = "/var/lib/checkout-monitor"
RUNBOOKS = "https://github.com/checkout-monitor/checkout-monitor/blob/main/deploy/README.md#"


def _agent_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "config.yaml").read_text())
    return config


def _prometheus_alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load((DEPLOY / "prometheus" / "alert-rules.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _agent_alerts() -> list[dict[str, str]]:
    """The labels the agent's own alerts carry that Alertmanager routes on."""
    alerting = _agent_config()["alerting"]
    alerts = [
        {"alertname": rule["name"], "severity": rule["severity"], "class": "site"}
        for rule in alerting["rules"]
    ]
    unhealthy = alerting.get("monitor_unhealthy", {})
    severity = unhealthy.get("severity", "warning")
    return [*alerts, {"alertname": "monitor-unhealthy", "severity": severity, "class": "monitor"}]


def _dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, each on one line (continuations joined, comments out)."""
    lines = (REPO / "Dockerfile").read_text().splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    return [" ".join(i.split()) for i in re.sub(r"\\\n", " ", text).splitlines() if i.strip()]


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


def test_alert_state_folder_is_the_same_everywhere() -> None:
    instructions = _dockerfile_instructions()
    env = " ".join(i for i in instructions if i.startswith("ENV "))
    assert f"CHECKOUT_MONITOR_STATE_DIR={STATE_DIR}" in env.split()
    # evidence goes inside the same writable volume, by default
    assert f"CHECKOUT_MONITOR_ARTIFACTS_DIR={STATE_DIR}/artifacts" in env.split()
    (run,) = [i for i in instructions if i.startswith("RUN ") and "mkdir" in i]
    assert re.search(rf"mkdir -p [^&]*{STATE_DIR}( |$)", run), run
    assert f"chown 1001:1001 {STATE_DIR}" in run, run
    assert "USER 1001:1001" in instructions

    assert _agent_config()["alerting"]["state_dir"] == STATE_DIR
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    volume, _, target = next(
        v for v in compose["services"]["checkout-monitor"]["volumes"] if f":{STATE_DIR}" in v
    ).partition(":")
    assert target == STATE_DIR
    assert volume in compose["volumes"], "a named volume, so the state outlives the container"


def test_agent_alerts_go_to_the_compose_alertmanager() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert "alertmanager" in compose["services"]
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (alertmanagers,) = prometheus["alerting"]["alertmanagers"]
    (prometheus_target,) = alertmanagers["static_configs"][0]["targets"]

    channels = _agent_config()["alerting"]["channels"]
    assert channels
    for name, channel in channels.items():
        assert set(channel) - {"send_resolved"} == {"alertmanager"}, name
        url = urlsplit(channel["alertmanager"]["url"])
        assert url.netloc == prometheus_target == "alertmanager:9093", name


@pytest.mark.parametrize(
    "labels",
    [
        *_agent_alerts(),
        *({"alertname": rule["alert"], **rule["labels"]} for rule in _prometheus_alerts()),
    ],
    ids=lambda labels: f"{labels['alertname']}-{labels.get('problem', '')}".rstrip("-"),
)
def test_alertmanager_routes_each_alert_by_class(labels: dict[str, str]) -> None:
    expected = {"site": "shop-oncall", "monitor": "monitor-owners"}[labels["class"]]
    matchers = [f"{name}={value}" for name, value in labels.items()]
    checked = subprocess.run(
        [
            "amtool", "config", "routes", "test", "--config.file=alertmanager.yml",
            f"--verify.receivers={expected}", *matchers,
        ],
        cwd=DEPLOY / "alertmanager", capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_alert_has_a_runbook_section() -> None:
    headings = re.findall(r"^#+ (.+)$", (DEPLOY / "README.md").read_text(), flags=re.MULTILINE)
    anchors = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}

    # The agent's alerts link to their journey's runbook: each needs a section of its own name.
    assert {alert["alertname"] for alert in _agent_alerts()} <= anchors
    links = [rule["annotations"]["runbook_url"] for rule in _prometheus_alerts()]
    links += [journey["runbook"] for journey in _agent_config()["journeys"]]
    for link in links:
        assert link.startswith(RUNBOOKS), link
        assert link.removeprefix(RUNBOOKS) in anchors, link


def test_the_listener_password_is_the_one_prometheus_sends() -> None:
    """compose starts the image's command with the web config mounted, and Prometheus's
    scrape job sends a user of that file with a password its bcrypt hash accepts."""
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    agent = compose["services"]["checkout-monitor"]
    command: list[str] = agent["command"]
    web_path = command[command.index("--web-config") + 1]
    assert f"./web-config.yml:{web_path}:ro" in agent["volumes"]
    (cmd,) = [i for i in _dockerfile_instructions() if i.startswith("CMD ")]
    image_command = command[: command.index("--web-config")]
    assert json.loads(cmd.removeprefix("CMD ")) == image_command

    web = load_web_config(DEPLOY / "web-config.yml")
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = [j for j in prometheus["scrape_configs"] if j["job_name"] == "checkout-monitor"]
    auth = job["basic_auth"]
    password = (DEPLOY / "prometheus" / auth["password_file"]).read_bytes().strip()
    assert bcrypt.checkpw(password, web.users[auth["username"]])
