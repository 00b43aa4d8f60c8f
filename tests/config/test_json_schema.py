"""The config's JSON Schema: valid, committed as the command writes it, and in agreement
with the loader on every config shipped or kept as a fixture (both accept the valid ones,
both refuse the invalid ones the schema can express)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from checkout_monitor.config.json_schema import SCHEMA_FILE, config_json_schema
from checkout_monitor.config.loader import load_config, parse_config
from checkout_monitor.config.yaml_reader import read_yaml
from checkout_monitor.errors import ConfigError
from checkout_monitor.text.durations import DURATION_PATTERN, parse_duration
from support.cli_support import EXAMPLE_ENV, REPO, run_cli
from support.yaml12 import Yaml12Loader, load_yaml12

SCHEMA = config_json_schema()  # as made now; the committed file is checked against it below
VALIDATOR = Draft202012Validator(SCHEMA)
INVALID = REPO / "tests" / "fixtures" / "invalid-configs"
README_PROFILE_ENV = {
    "SHOP_BASE_URL": "http://127.0.0.1:9",
    "SHOP_ADMIN_TOKEN": "token",
    "PAYMENT_SANDBOX_URL": "http://127.0.0.1:10",
    "PAYMENT_SANDBOX_PORT": "10",
}
# every valid config in the repository, and the variables its ${ENV} references need
VALID_CONFIGS = {
    "config.example.yaml": EXAMPLE_ENV,
    "deploy/config.yaml": {"DEMO_SHOP_ADMIN_TOKEN": "token"},
    "deploy/kubernetes/config.yaml": {
        "DEMO_SHOP_ADMIN_TOKEN": "token",
        "CHECKOUT_MONITOR_LOCATION": "demo",
    },
    "tests/fixtures/prometheus-rules/config.yaml": {},
    "tests/fixtures/readme-profiles/boutique-redirect.yaml": README_PROFILE_ENV,
    "tests/fixtures/readme-profiles/boutique-hosted-fields.yaml": README_PROFILE_ENV,
}
# invalid-config fixtures whose rule the schema can say: unknown keys, wrong types, bad
# choices and shapes (not checks across fields, value ranges of durations, URL details)
REFUSED_BY_BOTH = [
    "alert-unknown-key",
    "bad-duration",
    "bad-listen",
    "bad-name",
    "bad-url",
    "duration-without-unit",
    "header-bad-name",
    "missing-journeys",
    "missing-required-field",
    "not-a-mapping",
    "out-of-range",
    "overlay-without-dismiss",
    "unknown-extends",
    "unknown-failure-kind",
    "unknown-key-journey",
    "unknown-key-top",
    "wrong-type",
    "wrong-type-bool",
]


def _errors(document: Any) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(document)]


def _read(path: Path) -> Any:
    return read_yaml(path.read_text("utf-8"), str(path))[0]


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"].endswith(SCHEMA_FILE)
    assert "storefronts" in SCHEMA["properties"]
    assert SCHEMA["properties"]["storefronts"]["description"]


def test_the_committed_schema_is_what_the_command_prints() -> None:
    """Regenerate with: checkout-monitor schema --output schema/config.schema.json"""
    result = run_cli("checkout-monitor", "schema")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == SCHEMA
    assert result.stdout == (REPO / SCHEMA_FILE).read_text("utf-8"), (
        "schema/config.schema.json is stale: regenerate it with "
        "`checkout-monitor schema --output schema/config.schema.json`"
    )


@pytest.mark.parametrize("name", sorted(VALID_CONFIGS))
def test_every_valid_config_in_the_repository_matches_the_schema(name: str) -> None:
    path = REPO / name
    assert _errors(_read(path)) == []
    load_config(path, environ=VALID_CONFIGS[name])  # and the loader agrees


def test_the_builtin_demo_config_matches_the_schema() -> None:
    """Its storefront `extends: ${DEMO_PROFILE}` and gives no selectors of its own."""
    text = (REPO / "src" / "checkout_monitor" / "demo_config.yaml").read_text("utf-8")
    assert _errors(read_yaml(text, "demo")[0]) == []


@pytest.mark.parametrize("name", REFUSED_BY_BOTH)
def test_an_invalid_config_is_refused_by_the_schema_and_the_loader(name: str) -> None:
    path = INVALID / f"{name}.yaml"
    assert _errors(_read(path)), f"the schema accepts {name}.yaml"
    with pytest.raises(ConfigError):
        load_config(path, environ={})


def _config(**sections: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "storefronts": {"shop": {"extends": "demo", "base_url": "https://shop.example.com"}},
        "journeys": [{"journey": "product-to-checkout", "storefront": "shop"}],
    }
    return {**document, **sections}


def _both_accept(document: dict[str, Any], environ: dict[str, str]) -> None:
    assert _errors(document) == []
    parse_config(json.dumps(document), "test", Path.cwd(), environ)


def test_a_storefront_that_extends_a_profile_needs_none_of_its_keys() -> None:
    _both_accept(_config(), {})
    partial = _config()
    partial["storefronts"]["shop"]["product"] = {"path": "/products/mug"}
    _both_accept(partial, {})
    whole = _config()
    del whole["storefronts"]["shop"]["extends"]  # without it, product, cart... are required
    assert any("'product' is a required property" in e for e in _errors(whole))
    with pytest.raises(ConfigError):
        parse_config(json.dumps(whole), "test", Path.cwd(), {})


def test_a_storefront_or_channel_key_must_be_a_name() -> None:
    document = _config()
    document["storefronts"]["My Shop"] = document["storefronts"].pop("shop")
    assert _errors(document)
    with pytest.raises(ConfigError):
        parse_config(json.dumps(document), "test", Path.cwd(), {})


def test_an_env_reference_is_accepted_in_a_field_of_any_type() -> None:
    document = _config(
        browser={"headless": "${HEADLESS}", "viewport_width": "${WIDTH}"},
        defaults={"step_timeout": "${STEP}"},
        location="${LOCATION}",
        alerting={
            "channels": {
                "mail": {
                    "email": {
                        "host": "smtp.example.com",
                        "port": "${SMTP_PORT}",
                        "from": "monitor@example.com",
                        "to": ["ops@example.com"],
                    }
                }
            }
        },
    )
    document["storefronts"]["shop"]["base_url"] = "${SHOP_URL}"
    environ = {
        "HEADLESS": "false",
        "WIDTH": "1024",
        "STEP": "20s",
        "LOCATION": "eu-west",
        "SMTP_PORT": "2525",
        "SHOP_URL": "https://shop.example.com",
    }
    _both_accept(document, environ)
    assert _errors({**document, "location": "Not A Name"})  # a literal value is still checked


YAML11_SPELLINGS = """\
browser:
  headless: yes
  viewport_width: 1_280
artifacts:
  max_megabytes: 0b1111101000
history:
  enabled: on
  max_megabytes: 1_000
alerting:
  rules:
    - name: slow
      failure_rate_above: 0.2_5
      window: 1h
storefronts:
  shop: {extends: demo, base_url: "https://shop.example.com"}
journeys:
  - {journey: product-to-checkout, storefront: shop}
"""


def test_what_yaml_1_1_reads_as_a_boolean_or_number_the_schema_takes_as_text() -> None:
    """The loader (YAML 1.1) reads ``yes`` as true and ``1_000`` as a thousand; an editor
    (YAML 1.2) reads both as text, which the schema must not underline."""
    loaded = parse_config(YAML11_SPELLINGS, "test", Path.cwd(), {}).config
    assert loaded.browser.headless is True
    assert loaded.browser.viewport_width == 1280
    assert loaded.artifacts.max_megabytes == 1000
    assert loaded.history.enabled is True
    assert loaded.history.max_megabytes == 1000
    assert loaded.alerting.rules[0].failure_rate_above == 0.25
    as_the_editor_reads_it = load_yaml12(YAML11_SPELLINGS)
    assert as_the_editor_reads_it["browser"] == {"headless": "yes", "viewport_width": "1_280"}
    assert _errors(as_the_editor_reads_it) == []


YAML11_WORDS = ["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"]


@pytest.mark.parametrize("word", YAML11_WORDS)
def test_every_yaml_1_1_boolean_word_is_a_boolean_to_the_loader_and_text_to_the_schema(
    word: str,
) -> None:
    text = YAML11_SPELLINGS.replace("headless: yes", f"headless: {word}")
    assert parse_config(text, "test", Path.cwd(), {}).config.browser.headless is (
        word.lower() in ("yes", "on")
    )
    assert _errors(load_yaml12(text)) == []


@pytest.mark.parametrize(("field", "value"), [("headless", "y"), ("viewport_width", "1__2x")])
def test_other_text_in_a_boolean_or_number_is_still_flagged(field: str, value: str) -> None:
    """``y`` too is converted by the loader, but not as YAML: write ``true``."""
    text = YAML11_SPELLINGS.replace(f"  {field}: ", f"  {field}: {value}  # ")
    assert _errors(load_yaml12(text))


def _tag(loader: type[yaml.SafeLoader], text: str) -> str:
    """How ``loader`` types ``text`` written plain (unquoted) in a file."""
    return str(loader("").resolve(yaml.ScalarNode, text, (True, False))).rsplit(":", 1)[-1]


@given(st.text(alphabet="0179_.:+-xbeEaf", max_size=9))
@example("1_000")
@example("-0x1f")
@example("0b_")
@example("1:30")
@example("1:30.5")
@example(".5_0")
@example("010")
@example("0o10")
def test_the_yaml_1_1_patterns_take_the_numbers_only_yaml_1_1_reads(text: str) -> None:
    """A pattern matches exactly what the loader reads as a number and an editor as text."""
    as_text = _tag(Yaml12Loader, text) == "str"
    integer, number = (
        re.search(SCHEMA["$defs"][f"Yaml11{kind}"]["pattern"], text) is not None
        for kind in ("Integer", "Number")
    )
    assert integer == (as_text and _tag(yaml.SafeLoader, text) == "int"), repr(text)
    assert number == (as_text and _tag(yaml.SafeLoader, text) in ("int", "float")), repr(text)


def test_a_duration_default_is_written_as_in_a_config_file() -> None:
    defaults = SCHEMA["$defs"]["Defaults"]["properties"]
    assert defaults["step_timeout"]["default"] == "15s"
    assert defaults["interval"]["default"] == "5m"


@given(st.text(alphabet="0123456789 .msdh\t", max_size=12))
@example("1h30m")
@example(" 1 . 5 m s\t")  # spaces anywhere are dropped: 1.5ms
@example("5m s")
@example("1.s")
@example(".5s")
@example("90")
@example("1\t5s")
def test_the_duration_pattern_accepts_what_the_parser_accepts(text: str) -> None:
    try:
        parse_duration(text)
    except ValueError:
        parsed = False
    else:
        parsed = True
    assert bool(re.search(DURATION_PATTERN, text)) == parsed, repr(text)
