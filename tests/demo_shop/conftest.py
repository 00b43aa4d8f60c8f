"""Fixtures for the demo shop tests: real servers on port 0, real HTTP, stopped after."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from checkout_monitor.demo_shop import DemoShop
from support.shop_http import BoutiqueCheckout, ClassicCheckout


@pytest.fixture
def shop() -> Iterator[DemoShop]:
    with DemoShop(theme="classic", admin_token="test-token") as running:
        yield running


@pytest.fixture
def boutique() -> Iterator[DemoShop]:
    with DemoShop(theme="boutique", admin_token="test-token") as running:
        yield running


@pytest.fixture
def client(shop: DemoShop) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop.shop_url, timeout=10) as http:
        yield http


@pytest.fixture
def boutique_client(boutique: DemoShop) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=boutique.shop_url, timeout=10) as http:
        yield http


@pytest.fixture
def checkout(client: httpx.Client) -> ClassicCheckout:
    return ClassicCheckout(client)


@pytest.fixture
def boutique_checkout(boutique_client: httpx.Client) -> BoutiqueCheckout:
    return BoutiqueCheckout(boutique_client)
