"""The built-in demo config, bound to an embedded demo shop started on free loopback ports."""

from __future__ import annotations

import os
import tempfile
from importlib import resources
from pathlib import Path

from checkout_monitor.config_loader import parse_config
from checkout_monitor.config_model import LoadedConfig
from checkout_monitor.demo_shop import DemoShop

DEMO_SOURCE = "built-in demo config"
THEME_PROFILES = {"classic": "demo", "boutique": "demo-boutique"}


def demo_config(shop: DemoShop, theme: str = "classic") -> LoadedConfig:
    text = resources.files("checkout_monitor").joinpath("demo_config.yaml").read_text("utf-8")
    environ = {
        "DEMO_PROFILE": THEME_PROFILES[theme],
        "DEMO_SHOP_URL": shop.shop_url,
        "DEMO_SANDBOX_URL": shop.sandbox_url,
        "DEMO_SHOP_ADMIN_TOKEN": shop.admin_token,
    }
    loaded = parse_config(text, DEMO_SOURCE, Path.cwd(), environ)
    # alert state of a throwaway demo goes to the temp folder, not wherever it was started
    state_dir = Path(tempfile.gettempdir()) / f"checkout-monitor-demo-{os.getuid()}"
    alerting = loaded.config.alerting.model_copy(update={"state_dir": str(state_dir)})
    loaded.config = loaded.config.model_copy(update={"alerting": alerting})
    return loaded
