"""``location: ${CHECKOUT_MONITOR_LOCATION}``: one config run from several places, each
agent's location from its environment. The location is a label on every series, so unlike
other values from the environment it is not a secret: reports and messages show it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from checkout_monitor.config.loader import load_config
from checkout_monitor.errors import ConfigError
from support.cli_support import run_cli


def _config(tmp: Path) -> Path:
    document = {
        "location": "${CHECKOUT_MONITOR_LOCATION}",
        "storefronts": {
            "shop": {
                "extends": "demo",
                "base_url": "http://127.0.0.1:8080",
                "order_api": {"list": {"headers": {"Authorization": "Bearer ${SHOP_TOKEN}"}}},
            }
        },
        "journeys": [{"journey": "product-images", "storefront": "shop"}],
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_the_location_is_the_environments_and_not_a_secret(tmp_path: Path) -> None:
    environ = {"CHECKOUT_MONITOR_LOCATION": "eu-west-1", "SHOP_TOKEN": "t0ken-value"}
    loaded = load_config(_config(tmp_path), environ)
    assert loaded.config.location == "eu-west-1"
    assert "eu-west-1" not in loaded.secrets
    assert "t0ken-value" in loaded.secrets  # the other values from the environment still are


def test_a_bad_location_from_the_environment_is_shown_with_its_field(tmp_path: Path) -> None:
    environ = {"CHECKOUT_MONITOR_LOCATION": "EU West", "SHOP_TOKEN": "t0ken-value"}
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path), environ)
    assert caught.value.render() == (
        f"{tmp_path / 'config.yaml'}:1: location: 'EU West' is not a valid name: use "
        "lower-case letters, digits, '-', '_' or '.', starting with a letter or digit (at "
        "most 63 characters)"
    )


def test_validate_without_the_location_says_which_variable_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHECKOUT_MONITOR_LOCATION", raising=False)
    config = _config(tmp_path)
    result = run_cli("checkout-monitor", "validate", str(config), env={"SHOP_TOKEN": "t0ken-value"})
    assert result.returncode == 2
    assert result.stderr == (
        "checkout-monitor: the config is not valid (1 problem):\n"
        f"{config}:1: location: refers to ${{CHECKOUT_MONITOR_LOCATION}}, but the "
        "environment variable CHECKOUT_MONITOR_LOCATION is not set\n"
    )
