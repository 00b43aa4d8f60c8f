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


def test_a_bad_location_from_the_environment_is_named_but_not_shown(tmp_path: Path) -> None:
    # a value that fails validation may come from the wrong variable (a secret): it is only
    # published once it is a valid name
    environ = {"CHECKOUT_MONITOR_LOCATION": "EU West", "SHOP_TOKEN": "t0ken-value"}
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path), environ)
    assert caught.value.render() == (
        f"{tmp_path / 'config.yaml'}:1: location: '<value from the environment>' is not a "
        "valid name: use lower-case letters, digits, '-', '_' or '.', starting with a letter "
        "or digit (at most 63 characters)"
    )


def test_a_secret_in_the_location_by_mistake_never_reaches_the_error(tmp_path: Path) -> None:
    # location: ${SHOP_API_KEY}, where ${CHECKOUT_MONITOR_LOCATION} was meant
    secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    config = _config(tmp_path)
    result = run_cli(
        "checkout-monitor",
        "validate",
        str(config),
        env={"CHECKOUT_MONITOR_LOCATION": secret, "SHOP_TOKEN": "t0ken-value"},
    )
    assert result.returncode == 2
    assert "location: '<value from the environment>' is not a valid name" in result.stderr
    assert "4eC39HqLyjWDarjtT1zdp7dc" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


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


def test_a_valid_location_is_not_hidden_in_another_fields_error(tmp_path: Path) -> None:
    # hidden, "eu" would blank every word holding it: here the address quoted back
    config = _config(tmp_path)
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["agent"] = {"listen": "europe:99999"}
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    environ = {"CHECKOUT_MONITOR_LOCATION": "eu", "SHOP_TOKEN": "t0ken-value"}
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ)
    assert [p.message for p in caught.value.problems] == [
        "'europe:99999' is not HOST:PORT, e.g. 127.0.0.1:9115 or 0.0.0.0:9115"
    ]
