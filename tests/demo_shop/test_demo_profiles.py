"""Each theme and payment mode of the demo shop has its built-in profile, and the demo
config binds the one of the running shop."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkout_monitor.config.demo import demo_config, demo_profile
from checkout_monitor.config.loader import builtin_profiles
from checkout_monitor.config.storefront_profile import StorefrontProfile
from checkout_monitor.demo_shop import PAYMENT_MODES, THEMES, DemoShop

PAIRS = [(theme, payment) for theme in THEMES for payment in PAYMENT_MODES]


@pytest.mark.parametrize(("theme", "payment"), PAIRS)
def test_every_theme_and_payment_mode_has_a_profile(theme: str, payment: str) -> None:
    profile = StorefrontProfile.model_validate(builtin_profiles()[demo_profile(theme, payment)])
    assert [overlay.name for overlay in profile.overlays][:1] == ["cookie banner"]
    assert len(profile.overlays) == 2
    three_ds = profile.payment.three_d_secure
    assert three_ds is not None and three_ds.card == "4000002500003155"
    assert profile.allowed_hosts == ["pay.localhost:8081"]
    assert profile.takes_card


def test_the_demo_profiles_are_exactly_these() -> None:
    names = {demo_profile(theme, payment) for theme, payment in PAIRS}
    assert names == set(builtin_profiles())


def test_demo_config_binds_the_shops_payment_mode(tmp_path: Path) -> None:
    with DemoShop(theme="boutique", payment="redirect") as shop:
        loaded = demo_config(shop, "boutique", tmp_path)
    storefront = loaded.config.storefronts["demo"]
    steps = [page.step for page in storefront.checkout.pages]
    assert steps[-2:] == ["place order", "pay on Demo Pay"]
    assert storefront.base_url.rstrip("/") == shop.shop_url


def test_sandbox_is_reached_by_browsers_under_another_site() -> None:
    with DemoShop() as shop:
        port = shop.sandbox_url.rsplit(":", 1)[1]
        assert shop.sandbox_public_url == f"http://pay.localhost:{port}"
