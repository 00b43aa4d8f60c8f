"""Shared fixtures: real demo shops on free loopback ports, stopped after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from checkout_monitor.demo_shop import DemoShop


@pytest.fixture
def start_shop() -> Iterator[Callable[..., DemoShop]]:
    """Start demo shops on free ports; every one started is stopped after the test."""
    shops: list[DemoShop] = []

    def start(**kwargs: object) -> DemoShop:
        shop = DemoShop(**kwargs).start()  # type: ignore[arg-type]
        shops.append(shop)
        return shop

    yield start
    for shop in shops:
        shop.stop()
