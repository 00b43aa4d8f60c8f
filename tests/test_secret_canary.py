"""The canary test across every output: secrets planted through ``${ENV}`` in a config are
used for real (typed into forms, sent as the order API's token, posted as a discount code,
put in an alert webhook's URL and headers), and appear in no output of the agent.

Every canary carries the same marker, searched for case-blind, so each of them is caught in
any form it may take on its way: URL-encoded, HTML- or JSON-escaped, upper-cased by the
shop, or inside the plus-address the payment journey makes of the shopper's email.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from agent_process import AgentProcess
from alert_receivers import AlertReceiver
from checkout_monitor.demo_shop import DemoShop
from cli_support import run_cli, write_shop_config
from prometheus_servers import start_pushgateway
from secret_search import files_under, found

StartShop = Callable[..., DemoShop]
MARKER = "zq8cnry"  # in every canary; nowhere else
CANARIES = {
    "CANARY_ADMIN_TOKEN": "tok-Zq8Cnry-admin-41f",  # the shop's admin token: the order API's
    "CANARY_EMAIL": "zq8cnry.shopper@example.com",  # typed into checkout, plus-addressed too
    "CANARY_NAME": "Zq8cnry Shopper",
    "CANARY_CODE": "ZQ8CNRYCODE",  # a discount code posted to the shop
    "CANARY_HOOK": "zq8cnry-hook-path-token",  # in the alert webhook's URL
    "CANARY_HOOK_HEADER": "Bearer zq8cnry-hook-header",
}


def _config(tmp_path: Path, shop: DemoShop, journeys: list[str], **extra: Any) -> Path:
    auth = {"headers": {"Authorization": "Bearer ${CANARY_ADMIN_TOKEN}"}}
    path = write_shop_config(
        tmp_path / "config.yaml",
        shop,
        storefront={
            "order_api": {"cancel": auth, "list": auth},
            "customer": {"full_name": "${CANARY_NAME}", "email": "${CANARY_EMAIL}"},
            "discounts": {"valid": [], "must_reject": ["${CANARY_CODE}"]},
        },
    )
    document = yaml.safe_load(path.read_text())
    document["journeys"] = [
        {"journey": name, "storefront": "shop", "owner": "Test team"} for name in journeys
    ]
    document["artifacts"] = {"dir": str(tmp_path / "artifacts"), "traces": "always"}
    document.update(extra)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _assert_nowhere(files: list[Path], texts: list[tuple[str, str | bytes]]) -> None:
    leaks = found([MARKER], files, texts, ignore_case=True)
    assert not leaks, "canary found in:\n" + "\n".join(leaks)


@pytest.mark.browser
def test_run_smoke_leaks_no_secret_into_any_output(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop(
        faults=["discount-engine-down", "payment-declines"],
        admin_token=CANARIES["CANARY_ADMIN_TOKEN"],
    )
    config = _config(tmp_path, shop, ["product-to-checkout", "discount-codes", "payment-sandbox"])
    reports = [tmp_path / n for n in ("r.json", "r.html", "r.xml")]
    pushgateway = start_pushgateway(tmp_path)
    try:
        result = run_cli(
            "run-smoke", "--config", str(config), "--verbose", "--triage",
            "--json", str(reports[0]), "--html", str(reports[1]), "--junit", str(reports[2]),
            "--pushgateway", pushgateway.url, env=CANARIES,
        )  # fmt: skip
        pushed = httpx.get(f"{pushgateway.url}/metrics", timeout=5).text
    finally:
        pushgateway.stop()
    assert result.returncode == 1, result.stdout + result.stderr
    # the canaries were used: the code was posted and refused, the checkout reached payment
    assert "[FAIL] Discount engine" in result.stdout
    assert "payment_declined" in result.stdout
    assert 'step="refuse ' in pushed  # the step named after the code was pushed, scrubbed

    written = [*reports, *files_under(tmp_path / "artifacts")]
    names = {p.name for p in written}
    assert {"trace.zip", "page.html", "screenshot.png", "console.txt"} <= names
    assert any(n.startswith("triage-") for n in names)
    _assert_nowhere(
        written,
        [("stdout", result.stdout), ("stderr", result.stderr), ("the Pushgateway", pushed)],
    )


@pytest.mark.browser
def test_serve_leaks_no_secret_into_any_output(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop(faults=["discount-engine-down"], admin_token=CANARIES["CANARY_ADMIN_TOKEN"])
    with AlertReceiver() as receiver:
        alerting = {
            "state_dir": str(tmp_path / "state"),
            "min_firing": "0s",
            "rules": [{"name": "discounts-broken", "consecutive_failures": 1}],
            "channels": {
                "hook": {
                    "webhook": {
                        "url": f"{receiver.url}/hook/${{CANARY_HOOK}}",
                        "headers": {"Authorization": "${CANARY_HOOK_HEADER}"},
                    }
                }
            },
        }
        config = _config(tmp_path, shop, ["discount-codes"], alerting=alerting)
        args = ["--config", str(config), "--interval", "2s", "--verbose"]
        with AgentProcess(args, tmp_path, env=CANARIES) as agent:
            (notification,) = receiver.wait_for(1, timeout=90)
            metrics, alerts = agent.metrics(), httpx.get(f"{agent.url}/alerts").text
            code, _ = agent.stop()
        assert code == 0
        output = agent.output()

    # the webhook's secrets went where they belong, and only there
    assert notification.path == f"/hook/{CANARIES['CANARY_HOOK']}"
    assert notification.header("authorization") == CANARIES["CANARY_HOOK_HEADER"]
    assert notification.json["rule"] == "discounts-broken"
    assert 'step="refuse ' in metrics  # the step named after the code is a label, scrubbed
    assert '"discounts-broken"' in alerts

    written = files_under(tmp_path / "state", tmp_path / "artifacts")
    assert any(p.name == "alerts.json" for p in written)
    assert any(p.name == "trace.zip" for p in written)
    _assert_nowhere(
        written,
        [
            ("agent stdout and stderr", output),
            ("/metrics", metrics),
            ("/alerts", alerts),
            ("the webhook's body", notification.body),
        ],
    )
