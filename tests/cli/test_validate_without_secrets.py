"""`validate --without-secrets`: CI lints a config whose secrets are not set. Each unset
${ENV} reference is listed (field and variable, never a value) and the rest is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.cli_support import EXAMPLE_ENV, REPO, run_cli

EXAMPLE = str(REPO / "config.example.yaml")
UNSET = ("SLACK_WEBHOOK_URL", "SMTP_PASSWORD")
# the variables left set hold values that must not reach the output
SET = {name: f"s3cret-{name.lower()}-value" for name in EXAMPLE_ENV if name not in UNSET}


def _validate(
    monkeypatch: pytest.MonkeyPatch, *args: str, unset: tuple[str, ...] = UNSET
) -> tuple[int, str]:
    for name in unset:  # run_cli passes this process's environment on
        monkeypatch.delenv(name, raising=False)
    result = run_cli("checkout-monitor", "validate", *args, env=SET)
    return result.returncode, result.stdout + result.stderr


def test_unset_secrets_are_listed_and_the_rest_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = _validate(monkeypatch, EXAMPLE, "--without-secrets")
    assert code == 0, output
    assert (
        f"{EXAMPLE}: alerting.channels.shop-slack.slack.webhook_url: unset: "
        "${SLACK_WEBHOOK_URL} (checked with a placeholder)"
    ) in output
    assert (
        f"{EXAMPLE}: alerting.channels.oncall-mail.email.password: unset: ${{SMTP_PASSWORD}} "
        "(checked with a placeholder)"
    ) in output
    assert "unset: ${PAGERDUTY_ROUTING_KEY}" not in output  # set: not listed
    assert f"{EXAMPLE}: OK: 4 journeys" in output
    for value in SET.values():
        assert value not in output


def test_without_the_option_an_unset_secret_is_still_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, output = _validate(monkeypatch, EXAMPLE)
    assert code == 2
    assert (
        "alerting.channels.shop-slack.slack.webhook_url: refers to ${SLACK_WEBHOOK_URL}, "
        "but the environment variable SLACK_WEBHOOK_URL is not set"
    ) in output
    assert "OK:" not in output


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


SHOP_FROM_ENV = """\
location: ci
storefronts:
  shop:
    extends: ${SHOP_PROFILE}
    base_url: ${SHOP_URL}
    payment:
      health_url: ${SANDBOX_URL}/health
journeys:
  - journey: product-to-checkout
    storefront: shop
alerting:
  channels:
    mail:
      email:
        host: ${SMTP_HOST}
        port: ${SMTP_PORT}
        username: monitor
        password: ${SMTP_PASSWORD}
        from: monitor@example.com
        to: [ops@example.com]
"""
SHOP_VARIABLES = (
    "SHOP_PROFILE",
    "SHOP_URL",
    "SANDBOX_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_PASSWORD",
)


def test_a_placeholder_passes_a_profile_a_url_a_port_and_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A built-in profile's name, a whole URL, a URL's start, a port number and a password,
    all from the environment."""
    config = _write(tmp_path / "config.yaml", SHOP_FROM_ENV)
    code, output = _validate(monkeypatch, config, "--without-secrets", unset=SHOP_VARIABLES)
    assert code == 0, output
    listed = [line for line in output.splitlines() if ": unset: " in line]
    assert listed == [
        f"{config}: storefronts.shop.extends: unset: ${{SHOP_PROFILE}} "
        "(checked with a placeholder)",
        f"{config}: storefronts.shop.base_url: unset: ${{SHOP_URL}} (checked with a placeholder)",
        f"{config}: storefronts.shop.payment.health_url: unset: ${{SANDBOX_URL}} "
        "(checked with a placeholder)",
        f"{config}: alerting.channels.mail.email.host: unset: ${{SMTP_HOST}} "
        "(checked with a placeholder)",
        f"{config}: alerting.channels.mail.email.port: unset: ${{SMTP_PORT}} "
        "(checked with a placeholder)",
        f"{config}: alerting.channels.mail.email.password: unset: ${{SMTP_PASSWORD}} "
        "(checked with a placeholder)",
    ]


def test_other_problems_are_still_reported_with_secrets_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _write(tmp_path / "config.yaml", SHOP_FROM_ENV.replace("location: ci", "locaton: ci"))
    code, output = _validate(monkeypatch, config, "--without-secrets", unset=SHOP_VARIABLES)
    assert code == 2
    assert "locaton: unknown key (did you mean 'location'?" in output
    assert "Traceback" not in output


NAMES_FROM_ENV = """\
location: ci
storefronts:
  shop:
    extends: demo
    base_url: https://shop.example.com
journeys:
  - journey: product-to-checkout
    storefront: ${SHOP_NAME}
alerting:
  channels:
    slack:
      slack:
        webhook_url: https://hooks.slack.com/services/T0/B0/x
  rules:
    - name: checkout-down
      consecutive_failures: 3
      journeys: ["${JOURNEY_GLOB}"]
      channels: ["${ALERT_CHANNEL}"]
"""
NAME_VARIABLES = ("SHOP_NAME", "JOURNEY_GLOB", "ALERT_CHANNEL")


def test_a_check_against_other_fields_is_skipped_for_a_placeholder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A placeholder names no storefront, journey or channel: those checks would only
    judge the placeholder ("no channel named 'unset'")."""
    config = _write(tmp_path / "config.yaml", NAMES_FROM_ENV)
    code, output = _validate(monkeypatch, config, "--without-secrets", unset=NAME_VARIABLES)
    assert code == 0, output
    skipped = "(checked with a placeholder; checks against other fields skipped)"
    listed = [line for line in output.splitlines() if ": unset: " in line]
    assert listed == [
        f"{config}: journeys[0].storefront: unset: ${{SHOP_NAME}} {skipped}",
        f"{config}: alerting.rules[0].journeys[0]: unset: ${{JOURNEY_GLOB}} {skipped}",
        f"{config}: alerting.rules[0].channels[0]: unset: ${{ALERT_CHANNEL}} {skipped}",
    ]
    assert f"{config}: OK: 1 journeys" in output


def test_a_check_against_other_fields_still_judges_the_fields_without_a_placeholder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = NAMES_FROM_ENV.replace('["${ALERT_CHANNEL}"]', '["${ALERT_CHANNEL}", "pager"]')
    config = _write(tmp_path / "config.yaml", text)
    code, output = _validate(monkeypatch, config, "--without-secrets", unset=NAME_VARIABLES)
    assert code == 2
    assert "alerting.rules[0].channels[1]: no channel named 'pager'; defined: slack" in output
    assert "'unset'" not in output


def test_without_the_option_the_checks_against_other_fields_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _write(tmp_path / "config.yaml", NAMES_FROM_ENV)
    for name in NAME_VARIABLES:
        monkeypatch.setenv(name, "nowhere")
    code, output = _validate(monkeypatch, config, unset=())
    hidden = "'<value from the environment>'"  # as every value from ${ENV} is written
    assert code == 2
    assert "(3 problems)" in output
    assert f"journeys[0].storefront: no storefront named {hidden}; defined: shop" in output
    assert f"alerting.rules[0].journeys[0]: {hidden} matches no journey" in output
    assert f"alerting.rules[0].channels[0]: no channel named {hidden}; defined: slack" in output
    code, output = _validate(monkeypatch, config, unset=NAME_VARIABLES)
    assert code == 2
    assert (
        "journeys[0].storefront: refers to ${SHOP_NAME}, but the environment variable "
        "SHOP_NAME is not set"
    ) in output


def test_a_field_that_no_placeholder_fits_names_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A severity is one of a few words: no placeholder is one, so the field cannot be
    checked; that fails (exit 2) rather than passing a config nobody checked."""
    text = NAMES_FROM_ENV.replace("      journeys:", "      severity: ${SEVERITY}\n      journeys:")
    config = _write(tmp_path / "config.yaml", text)
    variables = (*NAME_VARIABLES, "SEVERITY")
    code, output = _validate(monkeypatch, config, "--without-secrets", unset=variables)
    line = text.splitlines().index("      severity: ${SEVERITY}") + 1
    assert code == 2
    assert (
        f"{config}:{line}: alerting.rules[0].severity: could not be checked without ${{SEVERITY}}: "
        "no placeholder fits this field; set the variable when validating"
    ) in output
    assert "'true'" not in output
    assert "Traceback" not in output


JOURNEY_NAMES_FROM_ENV = """\
storefronts:
  shop: {extends: demo, base_url: "https://shop.example.com"}
journeys:
  - {journey: product-to-checkout, storefront: shop, name: "${FIRST_NAME}"}
  - {journey: product-to-checkout, storefront: shop, name: "${SECOND_NAME}"}
  - {journey: "${JOURNEY}", storefront: shop}
alerting:
  rules:
    - {name: checkout-down, consecutive_failures: 3, journeys: ["checkout-*"]}
"""


def test_a_journey_named_by_a_placeholder_is_compared_with_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two names from the environment are not "a second journey named 'unset'", a rule's
    pattern may match one of them, and a journey from the environment may be in monitors/."""
    config = _write(tmp_path / "config.yaml", JOURNEY_NAMES_FROM_ENV)
    variables = ("FIRST_NAME", "SECOND_NAME", "JOURNEY")
    code, output = _validate(monkeypatch, config, "--without-secrets", unset=variables)
    assert code == 0, output
    skipped = "(checked with a placeholder; checks against other fields skipped)"
    listed = [line for line in output.splitlines() if ": unset: " in line]
    assert listed == [
        f"{config}: journeys[0].name: unset: ${{FIRST_NAME}} {skipped}",
        f"{config}: journeys[1].name: unset: ${{SECOND_NAME}} {skipped}",
        f"{config}: journeys[2].journey: unset: ${{JOURNEY}} {skipped}",
    ]
    assert f"{config}: OK: 3 journeys" in output
