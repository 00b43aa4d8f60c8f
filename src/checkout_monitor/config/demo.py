"""The built-in demo config, bound to an embedded demo shop started on free loopback ports."""

from __future__ import annotations

import tempfile
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from checkout_monitor.config.loader import parse_config
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.demo_shop import DemoShop

DEMO_SOURCE = "built-in demo config"
THEME_PROFILES = {"classic": "demo", "boutique": "demo-boutique"}
# The built-in profile of each payment mode is the theme's, with this suffix.
PAYMENT_SUFFIXES = {"form": "", "hosted-fields": "-hosted-fields", "redirect": "-redirect"}


def demo_profile(theme: str, payment: str) -> str:
    """The built-in profile that walks the demo shop in this theme and payment mode."""
    return THEME_PROFILES[theme] + PAYMENT_SUFFIXES[payment]


def demo_config(
    shop: DemoShop, theme: str = "classic", state_dir: Path | None = None
) -> LoadedConfig:
    """``state_dir``: where a demo agent keeps alert state (default: a new temporary folder)."""
    text = resources.files("checkout_monitor").joinpath("demo_config.yaml").read_text("utf-8")
    environ = {
        "DEMO_PROFILE": demo_profile(theme, shop.payment),
        "DEMO_SHOP_URL": shop.shop_url,
        "DEMO_SANDBOX_URL": shop.sandbox_url,
        "DEMO_SANDBOX_PUBLIC_HOST": urlsplit(shop.sandbox_public_url).netloc,
        "DEMO_SHOP_ADMIN_TOKEN": shop.admin_token,
    }
    loaded = parse_config(text, DEMO_SOURCE, Path.cwd(), environ)
    loaded.secrets = frozenset({shop.admin_token})  # URLs and the profile name are not secret
    # a throwaway demo keeps its alert state in a temporary folder, not where it was started
    state_dir = state_dir or Path(tempfile.mkdtemp(prefix="checkout-monitor-demo-"))
    alerting = loaded.config.alerting.model_copy(update={"state_dir": str(state_dir)})
    loaded.config = loaded.config.model_copy(update={"alerting": alerting})
    return loaded
