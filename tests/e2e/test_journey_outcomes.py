"""product-to-checkout against demo shops started by the test, through config files only.

Each case changes the storefront profile or the shop, never the journey code.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkout_monitor.config.loader import builtin_profiles
from checkout_monitor.demo_shop import DemoShop
from support.cli_support import run_cli, write_shop_config

pytestmark = pytest.mark.browser
StartShop = Callable[..., DemoShop]


def _smoke(config: Path, tmp_path: Path, *extra: str) -> tuple[int, str, dict[str, Any]]:
    report = tmp_path / "report.json"
    result = run_cli("run-smoke", "--config", str(config), "--json", str(report), *extra)
    assert "Traceback" not in result.stdout + result.stderr
    document = json.loads(report.read_text()) if report.exists() else {}
    return result.returncode, result.stdout + result.stderr, document


def _failed(document: dict[str, Any]) -> list[tuple[str, str]]:
    (journey,) = document["journeys"]
    return [(s["name"], s["failure_kind"]) for s in journey["steps"] if not s["ok"]]


def test_order_is_marked_synthetic_and_cancelled(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop()
    code, output, document = _smoke(write_shop_config(tmp_path / "c.yaml", shop), tmp_path)
    assert code == 0, output
    (order,) = shop.orders.list()
    assert order.synthetic is True
    assert "checkout-monitor/" in order.user_agent
    assert "(synthetic)" in order.user_agent
    assert order.status == "cancelled"
    steps = {step["name"]: step["message"] for step in document["journeys"][0]["steps"]}
    assert steps["cancel test order"] == f"order {order.number} cancelled"


def test_fault_switched_at_run_time_then_off_again(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop()
    config = write_shop_config(tmp_path / "c.yaml", shop)
    admin = httpx.Client(
        base_url=shop.shop_url, headers={"Authorization": f"Bearer {shop.admin_token}"}
    )
    with admin:
        assert admin.post("/admin/faults/payment-declines").status_code < 300
        code, output, document = _smoke(config, tmp_path)
        assert code == 1, output
        assert _failed(document) == [("pay", "payment_declined")]
        assert shop.orders.list() == []  # a declined payment creates no order

        assert admin.delete("/admin/faults/payment-declines").status_code < 300
    code, output, _ = _smoke(config, tmp_path)
    assert code == 0, output


def test_slow_product_page_is_a_timeout(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop(
        faults=["slow-product-page"], fault_params={"slow-product-page": {"delay_seconds": 4}}
    )
    config = write_shop_config(tmp_path / "c.yaml", shop, defaults={"step_timeout": "1500ms"})
    code, output, document = _smoke(config, tmp_path)
    assert code == 1, output
    assert _failed(document) == [("open product page", "timeout")]
    assert document["journeys"][0]["steps"][0]["duration_seconds"] < 3


def test_journey_timeout_bounds_the_whole_journey(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop(
        faults=["slow-product-page"], fault_params={"slow-product-page": {"delay_seconds": 5}}
    )
    config = write_shop_config(
        tmp_path / "c.yaml", shop, journey={"step_timeout": "10s", "journey_timeout": "2s"}
    )
    code, output, document = _smoke(config, tmp_path)
    assert code == 1, output
    assert _failed(document) == [("open product page", "timeout")]
    assert "ran out of its 2s time budget during this step" in output
    assert document["journeys"][0]["duration_seconds"] < 4


def test_optional_checkout_page_the_shop_skips(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop()
    sign_in = {
        "step": "sign in or continue as guest",
        "present": "form#login-choice",
        "optional": True,
        "submit": "button#guest",
    }
    pages = [sign_in, *_demo_pages()]
    config = write_shop_config(tmp_path / "c.yaml", shop, storefront={"checkout": {"pages": pages}})
    code, output, document = _smoke(config, tmp_path)
    assert code == 0, output
    steps = {s["name"]: s for s in document["journeys"][0]["steps"]}
    assert steps["sign in or continue as guest"]["message"] == "the shop skipped this page"


PROFILE_BREAKS = [
    # (what changed in the profile, step that fails, failure kind, what the output names)
    (
        {"cart": {"checkout": "a#old-checkout-button"}},
        "go to checkout",
        "element_missing",
        "a#old-checkout-button",
    ),
    (
        {"product": {"path": "/products/discontinued"}},
        "open product page",
        "http_error",
        "HTTP 404",
    ),
    (
        {"base_url": "http://127.0.0.1:{closed_port}"},
        "open product page",
        "connection_error",
        "ERR_CONNECTION_REFUSED",
    ),
    ({"customer": {"postcode": "!!"}}, "fill address", "form_rejected", "postcode"),
]


@pytest.mark.parametrize(
    ("storefront", "step", "kind", "named"),
    PROFILE_BREAKS,
    ids=["theme-changed", "product-gone", "shop-unreachable", "address-refused"],
)
def test_profile_mismatch_is_named(
    start_shop: StartShop,
    tmp_path: Path,
    storefront: dict[str, Any],
    step: str,
    kind: str,
    named: str,
) -> None:
    shop = start_shop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    if "base_url" in storefront:
        storefront = {"base_url": storefront["base_url"].format(closed_port=closed_port)}
    config = write_shop_config(
        tmp_path / "c.yaml", shop, storefront=storefront, defaults={"step_timeout": "4s"}
    )
    code, output, document = _smoke(config, tmp_path)
    assert code == 1, output
    assert _failed(document) == [(step, kind)]
    assert named.lower() in output.lower()


def test_same_journey_on_the_boutique_markup(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop(theme="boutique")
    config = write_shop_config(tmp_path / "c.yaml", shop, profile="demo-boutique")
    code, output, document = _smoke(config, tmp_path)
    assert code == 0, output
    names = [s["name"] for s in document["journeys"][0]["steps"]]
    assert "place order" in names
    assert shop.orders.list()[0].status == "cancelled"


def test_without_order_api_the_cleanup_is_a_visible_skip(
    start_shop: StartShop, tmp_path: Path
) -> None:
    shop = start_shop()
    config = write_shop_config(tmp_path / "c.yaml", shop, storefront={"order_api": None})
    code, output, document = _smoke(config, tmp_path)
    assert code == 0, output
    steps = {step["name"]: step["status"] for step in document["journeys"][0]["steps"]}
    assert steps["cancel test order"] == "skipped"
    assert "SKIP  cancel test order" in output
    assert shop.orders.list()[0].status == "paid"


def _demo_pages() -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = builtin_profiles()["demo"]["checkout"]["pages"]
    return pages


DISCOUNT_BREAKS = [
    # (discounts in the profile, failing step, failure kind, what the output says)
    ({"valid": [{"code": "SAVE10", "percent_off": 20}], "must_reject": []}, "apply SAVE10",
     "discount_wrong_amount", "SAVE10 should take 4.80 off a subtotal of 24.00"),
    ({"valid": [{"code": "SPRING5", "amount_off": 5}], "must_reject": []}, "apply SPRING5",
     "discount_rejected", 'SPRING5 was refused by the shop: "This code is not valid"'),
    ({"valid": [], "must_reject": ["TENOFF"]}, "refuse TENOFF", "assertion",
     "the code TENOFF should be refused, but the shop accepted it"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("discounts", "step", "kind", "said"),
    DISCOUNT_BREAKS,
    ids=["wrong-amount", "valid-code-refused", "bad-code-accepted"],
)
def test_discount_checks(
    start_shop: StartShop,
    tmp_path: Path,
    discounts: dict[str, Any],
    step: str,
    kind: str,
    said: str,
) -> None:
    shop = start_shop()
    config = write_shop_config(
        tmp_path / "c.yaml",
        shop,
        storefront={"discounts": discounts},
        journey={"journey": "discount-codes"},
    )
    code, output, document = _smoke(config, tmp_path)
    assert code == 1, output
    assert _failed(document) == [(step, kind)]
    assert said in output


@pytest.mark.parametrize("journey", ["product-to-checkout", "payment-sandbox"])
def test_dry_run_places_no_order(start_shop: StartShop, tmp_path: Path, journey: str) -> None:
    shop = start_shop()
    config = write_shop_config(
        tmp_path / "c.yaml", shop, journey={"journey": journey, "place_order": False}
    )
    code, output, document = _smoke(config, tmp_path)
    assert code == 0, output
    assert shop.orders.list() == []
    skipped = [s["name"] for s in document["journeys"][0]["steps"] if s["status"] == "skipped"]
    expected = ["see confirmation"] if journey == "product-to-checkout" else ["card payments"]
    assert skipped == expected
    assert "dry run" in output


def test_declined_cards_create_no_order(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop()
    config = write_shop_config(tmp_path / "c.yaml", shop, journey={"journey": "payment-sandbox"})
    code, output, document = _smoke(config, tmp_path)
    assert code == 0, output
    steps = {s["name"]: s["message"] for s in document["journeys"][0]["steps"]}
    assert steps["decline card is declined"].endswith("; no order created")
    assert "insufficient funds" in steps["insufficient-funds card is declined"]
    assert steps["3-D Secure challenge failed: declined"].endswith("; no order created")
    # only the approve card's and the 3-D Secure card's once its challenge passed: both
    # cancelled
    orders = shop.orders.list()
    assert [order.charge_id != "" for order in orders] == [True, True]
    assert [order.status for order in orders] == ["cancelled", "cancelled"]
    assert steps["cancel test order"] == (f"order {orders[0].number}, {orders[1].number} cancelled")


def test_shop_without_health_endpoint_or_card_is_a_visible_skip(
    start_shop: StartShop, tmp_path: Path
) -> None:
    shop = start_shop()
    pages = _demo_pages()
    pages[2]["fill"] = {}  # this "shop" takes no card at checkout
    config = write_shop_config(
        tmp_path / "c.yaml",
        shop,
        storefront={"payment": {"health_url": None}, "checkout": {"pages": pages}},
        journey={"journey": "payment-sandbox"},
    )
    code, output, document = _smoke(config, tmp_path)
    assert code == 0, output
    steps = [(s["name"], s["status"]) for s in document["journeys"][0]["steps"]]
    assert steps == [("payment provider health", "skipped"), ("card payments", "skipped")]
    assert "SKIP  payment provider health" in output
