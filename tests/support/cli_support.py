"""Helpers for tests: the CLI run as a user runs it, and configs for running demo shops."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from checkout_monitor.demo_shop import DemoShop

REPO = Path(__file__).resolve().parents[2]
# The secrets config.example.yaml names: set, so the example validates.
EXAMPLE_ENV = {
    "SHOP_ORDER_API_TOKEN": "t",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/x",
    "PAGERDUTY_ROUTING_KEY": "k",
    "ALERT_WEBHOOK_TOKEN": "t",
    "SMTP_PASSWORD": "p",
}
# evidence of the journeys tests fail on purpose: one folder per test process, not the repo
ARTIFACTS = tempfile.mkdtemp(prefix="checkout-monitor-test-artifacts-")
BIN = Path(sys.executable).parent


def run_cli(
    command: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run an installed console script (run-smoke, checkout-monitor) in a subprocess."""
    return subprocess.run(
        [str(BIN / command), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={
            **os.environ,
            "NO_COLOR": "1",
            "CHECKOUT_MONITOR_ARTIFACTS_DIR": ARTIFACTS,
            **(env or {}),
        },
        check=False,
    )


def write_shop_config(
    path: Path,
    shop: DemoShop,
    *,
    profile: str = "demo",
    storefront: dict[str, object] | None = None,
    defaults: dict[str, object] | None = None,
    journey: dict[str, object] | None = None,
) -> Path:
    """A config file for a running demo shop, extending one of the built-in profiles."""
    document = {
        "location": "test-lab",
        "monitors_dir": str(REPO / "monitors"),
        "defaults": {
            "step_timeout": "5s",
            "journey_timeout": "40s",
            "retries": 0,  # tests of retries ask for them
            **(defaults or {}),
        },
        "storefronts": {
            "shop": {
                "extends": profile,
                "base_url": shop.shop_url,
                "order_api": {
                    "cancel": {"headers": {"Authorization": f"Bearer {shop.admin_token}"}},
                    "list": {"headers": {"Authorization": f"Bearer {shop.admin_token}"}},
                },
                "payment": {"health_url": f"{shop.sandbox_url}/health"},
                # the provider's frames and pages, as the demo profiles reach them
                "allowed_hosts": [urlsplit(shop.sandbox_public_url).netloc],
                **(storefront or {}),
            }
        },
        "journeys": [
            {
                "journey": "product-to-checkout",
                "storefront": "shop",
                "owner": "Test team",
                **(journey or {}),
            }
        ],
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path
