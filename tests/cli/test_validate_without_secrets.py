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
