"""``checkout-monitor rules`` from a config shared by several agents: the variables only the
agents need (their location, the shop's URL and tokens, a channel's secret) may be unset
where the rules are written; those the rules read may not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from checkout_monitor.alerting.prometheus_rules import render_rules
from checkout_monitor.alerting.rules_config import load_rules_config
from checkout_monitor.config.loader import load_config
from checkout_monitor.errors import ConfigError
from support.cli_support import run_cli

AGENT_ONLY = ("CHECKOUT_MONITOR_LOCATION", "SHOP_URL", "SHOP_TOKEN", "SLACK_URL")


def _config(tmp: Path, runbook: str = "https://wiki.example.com/checkout") -> Path:
    document = {
        "location": "${CHECKOUT_MONITOR_LOCATION}",
        "storefronts": {
            "shop": {
                "extends": "demo",
                "base_url": "${SHOP_URL}",
                "order_api": {"list": {"headers": {"Authorization": "Bearer ${SHOP_TOKEN}"}}},
            }
        },
        "journeys": [{"journey": "product-images", "storefront": "shop", "runbook": runbook}],
        "alerting": {
            "rules": [{"name": "journey-failing", "consecutive_failures": 1}],
            "channels": {"chat": {"slack": {"webhook_url": "${SLACK_URL}"}}},
            "prometheus": {"locations_failing": 2},
        },
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _agent_variables_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*AGENT_ONLY, "RUNBOOK"):
        monkeypatch.delenv(name, raising=False)


def test_the_rules_need_no_location_and_no_shop_or_channel_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path)
    written = render_rules(load_rules_config(config))
    # the same rules as with every variable set: none of them is in the rules
    environ = {
        "CHECKOUT_MONITOR_LOCATION": "eu",
        "SHOP_URL": "http://127.0.0.1:9",
        "SHOP_TOKEN": "t0ken-value",
        "SLACK_URL": "https://hooks.slack.com/services/T0/B0/x",
    }
    assert written == render_rules(load_config(config, environ))
    assert "CheckoutJourneyFailingInLocations" in written


def test_a_variable_the_rules_read_is_still_required(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_rules_config(_config(tmp_path, runbook="${RUNBOOK}"))
    # only the one the rules need is named: the location is not asked for
    assert [p.field for p in caught.value.problems] == ["journeys[0].runbook"]


def test_cli_names_the_variable_the_rules_need_and_exits_2(tmp_path: Path) -> None:
    config = _config(tmp_path, runbook="https://wiki.example.com/${RUNBOOK}")
    result = run_cli("checkout-monitor", "rules", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr == (
        "checkout-monitor: the config is not valid (1 problem):\n"
        f"{config}:13: journeys[0].runbook: refers to ${{RUNBOOK}}, but the environment "
        "variable RUNBOOK is not set\n"
    )
    assert result.stdout == ""


# Agent-only fields that no placeholder fits (an address to listen on, a size in MiB) or
# that one does (a URL, a number): left out, their defaults stand in; the rules are the same.
AGENT_FIELDS = [
    ({"agent": {"listen": "${LISTEN_ADDRESS}"}}, {"LISTEN_ADDRESS": "0.0.0.0:9109"}),
    ({"browser": {"recycle_above_mib": "${MIB}"}}, {"MIB": "2048"}),
    (
        {"browser": {"remote": {"protocol": "playwright", "url": "${BROWSER_URL}"}}},
        {"BROWSER_URL": "ws://127.0.0.1:3000/"},
    ),
    ({"history": {"max_megabytes": "${X}"}}, {"X": "750"}),
    ({"browser": {"extra_args": ["--lang=${LANG_CODE}"]}}, {"LANG_CODE": "de"}),
]


@pytest.mark.parametrize(
    ("fields", "environ"), AGENT_FIELDS, ids=["listen", "mib", "remote-url", "history", "args"]
)
def test_an_unset_variable_in_any_agent_field_is_not_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: dict, environ: dict[str, str]
) -> None:
    config = _config(tmp_path)
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    config.write_text(yaml.safe_dump({**document, **fields}, sort_keys=False), encoding="utf-8")
    for name in environ:
        monkeypatch.delenv(name, raising=False)
    written = render_rules(load_rules_config(config))
    every = {
        "CHECKOUT_MONITOR_LOCATION": "eu",
        "SHOP_URL": "http://127.0.0.1:9",
        "SHOP_TOKEN": "t0ken-value",
        "SLACK_URL": "https://hooks.slack.com/services/T0/B0/x",
        **environ,
    }
    assert written == render_rules(load_config(config, every))
    # sharded agents' journeys are covered by the rule that sharding added
    assert "CheckoutJourneyUncovered" in written


def test_cli_writes_the_rules_with_the_listener_and_the_browser_size_unset(tmp_path: Path) -> None:
    config = _config(tmp_path)
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["agent"] = {"listen": "${LISTEN_ADDRESS}"}
    document["browser"] = {"recycle_above_mib": "${MIB}"}
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    result = run_cli("checkout-monitor", "rules", "--config", str(config))
    assert result.stderr == ""
    assert result.returncode == 0
    assert "alert: CheckoutJourneyUncovered" in result.stdout


def test_an_unset_variable_in_a_rule_field_is_named_beside_agent_ones(tmp_path: Path) -> None:
    config = _config(tmp_path, runbook="${RUNBOOK}")
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["agent"] = {"listen": "${LISTEN_ADDRESS}"}
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rules_config(config)
    assert [p.field for p in caught.value.problems] == ["journeys[0].runbook"]
