"""`checkout-monitor rules`: the generated file passes `promtool check rules`, fires and
resolves as the agent would under `promtool test rules`, is written by the CLI run as a user
runs it, and fires in a real Prometheus scraping a real agent against the demo shop."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from checkout_monitor import __version__
from checkout_monitor.alerting.prometheus_rules import render_rules
from checkout_monitor.config.loader import load_config
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.evidence.redaction import REDACTED
from support.agent_process import AgentProcess
from support.cli_support import REPO, run_cli, write_shop_config
from support.prometheus_servers import alerts, query, start_prometheus, wait_until

FIXTURES = REPO / "tests" / "fixtures" / "prometheus-rules"
CONFIG = FIXTURES / "config.yaml"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
JOURNEYS = [
    {"journey": "product-to-checkout", "storefront": "shop", "owner": "Web team"},
    {"journey": "discount-codes", "storefront": "shop", "interval": "2m"},
]
EXTRA = ["CheckoutJourneyOverdue", "CheckoutJourneyMissing"]
UNCOVERED = ["CheckoutJourneyUncovered"] * 2  # one per journey, after the missing ones


def write_config(
    path: Path, alerting: dict[str, Any], journeys: list[dict[str, Any]] | None = None
) -> Path:
    document = {
        "location": "lab",
        "storefronts": {"shop": {"extends": "demo", "base_url": "http://127.0.0.1:8080"}},
        "journeys": JOURNEYS if journeys is None else journeys,
        "alerting": alerting,
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A hang guard, not a time limit: the week-over-week unit test evaluates every
    generated rule hourly over a week (12 CPU-seconds) and took over 100 s on a loaded
    machine; the test's own limit (pytest-timeout, 180 s) stays the outer bound."""
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, cwd=cwd, timeout=170, check=False
    )


def rules_of(text: str) -> list[dict[str, Any]]:
    groups = yaml.safe_load(text)["groups"]
    assert len(groups) == 1
    found: list[dict[str, Any]] = groups[0]["rules"] or []
    return found


def names(text: str) -> list[str]:
    return [rule["alert"] for rule in rules_of(text)]


def rendered(tmp_path: Path, alerting: dict[str, Any], **kwargs: Any) -> str:
    return render_rules(load_config(write_config(tmp_path / "config.yaml", alerting, **kwargs)))


NO_EXTRAS = {"locations_failing": None, "week_over_week_drop": None}
HEALTH = ["monitor-unhealthy"] * 2

CHECKED = [
    # (case, alerting section, journeys or None for JOURNEYS, alertnames in order)
    (
        "rate-every-class",
        {
            "rules": [
                {
                    "name": "checkout-failing",
                    "failure_rate_above": 0.2,
                    "window": "15m",
                    "classes": ["site", "monitor"],
                    "for": "90s",
                    "labels": {"team": "web", "journey": "ignored"},
                }
            ],
            "prometheus": {**NO_EXTRAS, "evaluation_group": "shop-alerts"},
        },
        None,
        ["checkout-failing"] * 2 + HEALTH + EXTRA[:1] + EXTRA[1:] * 2 + UNCOVERED,
    ),
    (
        "monitor-rate-with-hysteresis",
        {
            "rules": [
                {
                    "name": "monitor-flaky",
                    "journeys": ["discount-*"],
                    "failure_rate_above": 0.5,
                    "window": "1h",
                    "classes": ["monitor"],
                    "resolve_below": 0.25,
                }
            ],
            "monitor_unhealthy": {"enabled": False},
            "prometheus": NO_EXTRAS,
        },
        None,
        ["monitor-flaky", *EXTRA, EXTRA[1], *UNCOVERED],
    ),
    (
        "step-latency-with-odd-step-name",
        {
            "rules": [
                {
                    "name": "pay-slow",
                    "journeys": ["product-to-checkout"],
                    "p95_above": "3s",
                    "window": "30m",
                    "step": 'pay "now" \\ {{ later }}',
                    "resolve_below": "1500ms",
                }
            ],
            "monitor_unhealthy": {"enabled": False},
            "prometheus": NO_EXTRAS,
        },
        None,
        ["pay-slow", *EXTRA, EXTRA[1], *UNCOVERED],
    ),
    (
        "f-of-t-and-consecutive-with-extras",
        {
            "rules": [
                {"name": "of-last", "failures": 2, "of_last": 4, "resolve_below": 1},
                {"name": "in-a-row", "consecutive_failures": 3, "classes": ["monitor"]},
            ],
            "prometheus": {"locations_failing": 2, "week_over_week_drop": 0.3},
        },
        None,
        ["of-last"] * 2
        + ["in-a-row"] * 2
        + HEALTH
        + [EXTRA[0]]
        + [EXTRA[1]] * 2
        + UNCOVERED
        + ["CheckoutJourneyFailingInLocations"] * 2
        + ["CheckoutJourneySuccessDropped"] * 2,
    ),
    (
        "week-over-week-rate-and-step-latency",
        {
            "rules": [
                {
                    "name": "checkout-dropped",
                    "journeys": ["product-to-checkout"],
                    "week_over_week_drop_above": 0.2,
                    "window": "1h",
                    "classes": ["site", "monitor"],
                    "resolve_below": 0.1,
                },
                {
                    "name": "pay-slower",
                    "journeys": ["product-to-checkout"],
                    "week_over_week_drop_above": 0.5,
                    "window": "30m",
                    "step": "pay",
                    "min_runs": 5,
                },
            ],
            "monitor_unhealthy": {"enabled": False},
            "prometheus": NO_EXTRAS,
        },
        None,
        ["checkout-dropped", "pay-slower", *EXTRA, EXTRA[1], *UNCOVERED],
    ),
    (
        "alerting-disabled-no-rules",
        {"enabled": False, "monitor_unhealthy": {"enabled": False}, "prometheus": NO_EXTRAS},
        None,
        [*EXTRA, EXTRA[1], *UNCOVERED],
    ),
    (
        "template-text-in-owner",
        {"rules": [{"name": "slow", "p95_above": "10s", "window": "10m"}]},
        [
            {
                "journey": "product-to-checkout",
                "storefront": "shop",
                "owner": "Team {{ braces }} }}",
                "runbook": "https://wiki.example.com/{{x}}",
            }
        ],
        [
            "slow",
            "monitor-unhealthy",
            *EXTRA,
            UNCOVERED[0],
            "CheckoutJourneySuccessDropped",
        ],
    ),
    (
        "every-journey-disabled",
        {"rules": [{"name": "failing", "consecutive_failures": 2}]},
        [{"journey": "product-to-checkout", "storefront": "shop", "enabled": False}],
        [],
    ),
]


@pytest.mark.parametrize(
    ("alerting", "journeys", "expected"),
    [case[1:] for case in CHECKED],
    ids=[case[0] for case in CHECKED],
)
def test_promtool_accepts_the_rules(
    tmp_path: Path,
    alerting: dict[str, Any],
    journeys: list[dict[str, Any]] | None,
    expected: list[str],
) -> None:
    text = rendered(tmp_path, alerting, journeys=journeys)
    (tmp_path / "rules.yml").write_text(text)
    checked = promtool("check", "rules", str(tmp_path / "rules.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr + text
    assert names(text) == expected


def test_promtool_unit_tests_of_the_fixture_config_pass(tmp_path: Path) -> None:
    """Every condition, hysteresis, the dead man's switch, N of M and week over week."""
    (tmp_path / "rules.yml").write_text(render_rules(load_config(CONFIG)))
    tests = sorted(FIXTURES.glob("*.test.yml"))
    assert [path.name for path in tests] == ["rules.test.yml", "week-over-week.test.yml"]
    for path in tests:
        shutil.copy(path, tmp_path / path.name)
    result = promtool("test", "rules", *(path.name for path in tests), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == 2, result.stdout


def test_the_file_is_deterministic_and_says_where_it_came_from() -> None:
    text = render_rules(load_config(CONFIG))
    assert render_rules(load_config(CONFIG)) == text
    header = text.split("groups:")[0]
    assert f"generated by checkout-monitor {__version__} from {CONFIG}" in header
    assert "Do not edit by hand" in header
    assert "Rule images-failing is left out: it matches no enabled journey." in header
    assert yaml.safe_load(text)["groups"][0]["name"] == "checkout-monitor"


def test_one_prometheus_rule_per_journey_with_its_own_owner_and_interval() -> None:
    rules = rules_of(render_rules(load_config(CONFIG)))
    failing = [rule for rule in rules if rule["alert"] == "checkout-failing"]
    assert [(rule["labels"]["journey"], rule["annotations"].get("owner")) for rule in failing] == [
        ("product-to-checkout", "Web team"),
        ("checkout.eu", "EU team"),
    ]
    assert "runbook_url" not in failing[1]["annotations"]
    assert failing[0]["labels"] == {
        "team": "web",
        "severity": "critical",
        "journey": "product-to-checkout",
        "storefront": "shop",
        "class": "site",
    }
    of_last = {
        rule["labels"]["journey"]: rule["expr"]
        for rule in rules
        if rule["alert"] == "failing-of-last"
    }
    assert "offset 5m" in of_last["product-to-checkout"]  # 5 runs at 1m
    assert "offset 10m" in of_last["discount-codes"]  # 5 runs at 2m
    overdue = next(rule for rule in rules if rule["alert"] == "CheckoutJourneyOverdue")
    assert 'journey=~"product-to-checkout|checkout\\\\.eu|discount-codes"' in overdue["expr"]


def test_labels_the_series_and_rule_set_are_not_overridden(tmp_path: Path) -> None:
    """As in the agent's notifications: a rule's labels never replace journey or severity."""
    text = rendered(
        tmp_path,
        {
            "rules": [
                {
                    "name": "failing",
                    "journeys": ["product-to-checkout"],
                    "consecutive_failures": 2,
                    "severity": "warning",
                    "labels": {"journey": "x", "severity": "info", "class": "payments"},
                }
            ]
        },
    )
    assert rules_of(text)[0]["labels"] == {
        "class": "payments",
        "severity": "warning",
        "journey": "product-to-checkout",
        "storefront": "shop",
    }


def test_values_from_the_environment_are_not_written(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config.yaml",
        {
            "rules": [
                {"name": "failing", "consecutive_failures": 2, "labels": {"pager": "${PAGER}"}}
            ]
        },
        [
            {
                "journey": "product-to-checkout",
                "storefront": "shop",
                "owner": "${OWNER}",
                "runbook": "https://wiki.example.com/${RUNBOOK}",
            }
        ],
    )
    environ = {"OWNER": "owner-secret", "RUNBOOK": "runbook-secret", "PAGER": "pager-secret"}
    text = render_rules(load_config(config, environ))
    assert "secret" not in text
    rule = rules_of(text)[0]
    assert rule["labels"]["pager"] == REDACTED
    assert rule["annotations"]["owner"] == REDACTED
    assert rule["annotations"]["runbook_url"] == f"https://wiki.example.com/{REDACTED}"


def test_disabled_alerting_still_writes_every_rule_and_says_why(tmp_path: Path) -> None:
    """alerting.enabled: false is how Prometheus becomes the only one alerting."""
    text = rendered(
        tmp_path, {"enabled": False, "rules": [{"name": "failing", "failures": 1, "of_last": 2}]}
    )
    assert "alerting.enabled is false: the agent sends no alerts itself" in text
    assert names(text)[:4] == ["failing", "failing", "monitor-unhealthy", "monitor-unhealthy"]


# --- the CLI, as a user runs it --------------------------------------------------------------


def test_cli_writes_the_rules_to_a_file_or_standard_output(tmp_path: Path) -> None:
    output = tmp_path / "out" / "rules.yml"
    result = run_cli("checkout-monitor", "rules", "--config", str(CONFIG), "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert f"wrote Prometheus alerting rules for {CONFIG} to {output}" in result.stderr
    assert output.read_text() == render_rules(load_config(CONFIG))
    printed = run_cli("checkout-monitor", "rules", "--config", str(CONFIG))
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == output.read_text()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"name": "failing", "failure_rate_above": 2, "window": "10m"},
            "alerting.rules[0].failure_rate_above: Input should be less than 1",
        ),
        (
            {"name": "failing", "consecutive_failures": 2, "labels": {"on-call": "web"}},
            "alerting.rules[0].labels.on-call: the name 'on-call' is not allowed: it is not a "
            "Prometheus label name",
        ),
    ],
    ids=["invalid-rule", "invalid-label-name"],
)
def test_cli_bad_config_exits_2_with_a_plain_message(
    tmp_path: Path, rule: dict[str, Any], message: str
) -> None:
    config = write_config(tmp_path / "config.yaml", {"rules": [rule]})
    output = tmp_path / "rules.yml"
    result = run_cli("checkout-monitor", "rules", "--config", str(config), "--output", str(output))
    assert result.returncode == 2
    assert "checkout-monitor: the config is not valid (1 problem):" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not output.exists()


# --- a real Prometheus -----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_real_prometheus_fires_the_generated_alert(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    """The agent alone is not alerting (enabled: false); Prometheus, from the generated
    rules, fires once the shop declines payments twice in a row."""
    shop = start_shop()
    config = write_shop_config(tmp_path / "config.yaml", shop)
    document = yaml.safe_load(config.read_text())
    document["alerting"] = {
        "enabled": False,
        "rules": [
            {
                "name": "checkout-failing",
                "journeys": ["product-to-checkout"],
                "consecutive_failures": 2,
                "labels": {"team": "web"},
            }
        ],
    }
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    rule_file = tmp_path / "rules.yml"
    written = run_cli(
        "checkout-monitor", "rules", "--config", str(config), "--output", str(rule_file)
    )
    assert written.returncode == 0, written.stderr

    def checkout_alerts(prometheus: Any) -> list[dict[str, Any]]:
        return [a for a in alerts(prometheus) if a["labels"]["alertname"] == "checkout-failing"]

    with AgentProcess(["--config", str(config), "--interval", "2s"], tmp_path) as agent:
        prometheus = start_prometheus(tmp_path, f"127.0.0.1:{agent.port}", rule_file)
        try:
            passed = 'checkout_journey_success{journey="product-to-checkout"} == 1'
            wait_until(lambda: bool(query(prometheus, passed)), 30, "a pass in Prometheus")
            assert checkout_alerts(prometheus) == []

            admin = {"Authorization": f"Bearer {shop.admin_token}"}
            httpx.post(
                f"{shop.shop_url}/admin/faults/payment-declines", headers=admin, timeout=10
            ).raise_for_status()
            wait_until(
                lambda: [a["state"] for a in checkout_alerts(prometheus)] == ["firing"],
                40,
                "checkout-failing to fire in Prometheus",
            )
            alert = checkout_alerts(prometheus)[0]
            assert alert["labels"] == {
                "alertname": "checkout-failing",
                "journey": "product-to-checkout",
                "location": "test-lab",
                "severity": "critical",
                "storefront": "shop",
                "class": "site",
                "team": "web",
            }
            assert alert["annotations"]["owner"] == "Test team"
            assert re.fullmatch(
                r"product-to-checkout at test-lab: \d+ runs in a row failed",
                alert["annotations"]["summary"],
            )
        finally:
            prometheus.stop()
        code, _took = agent.stop()
    assert code == 0, agent.output()
