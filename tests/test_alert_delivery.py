"""The alert engine, state file and outbox with a real HTTP receiver: no loss, no duplicates.

Journey results are built by hand here (the browser side has its own tests), so a receiver
outage, an agent restart and a corrupt state file can each be staged in well under a second.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from alert_receivers import AlertReceiver
from checkout_monitor.alerting.alerting import Alerting
from checkout_monitor.config_loader import parse_config
from checkout_monitor.config_model import LoadedConfig
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.metrics import Metrics
from checkout_monitor.results import JourneyResult, StepResult, StepStatus

SECRET_TOKEN = "canary-hook-token-5f3a9"
SECRET_CODE = "CANARY-SECRET-CODE"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def config(tmp: Path, receiver_url: str, extra: str = "") -> LoadedConfig:
    text = f"""
location: test-lab
storefronts:
  shop:
    extends: demo
    base_url: http://127.0.0.1:9
journeys:
  - journey: product-to-checkout
    storefront: shop
    owner: Shop team (shop@example.com)
    runbook: https://runbooks.example.com/checkout
alerting:
  state_dir: state
  min_firing: 0s
  min_resolved: 0s
  delivery:
    initial_backoff: 100ms
    max_backoff: 1s
  rules:
    - name: checkout-failing
      failures: 2
      of_last: 3
      resolve_below: 1
  channels:
    hook:
      webhook:
        url: {receiver_url}/hook/${{HOOK_TOKEN}}
        headers:
          X-Code: ${{DISCOUNT_CODE}}
{extra}
"""
    environ = {"HOOK_TOKEN": SECRET_TOKEN, "DISCOUNT_CODE": SECRET_CODE}
    return parse_config(text, "alerting.yaml", tmp, environ)


def result(
    ok: bool, when: float, kind: FailureKind = FailureKind.DISCOUNT_REJECTED
) -> JourneyResult:
    steps = [StepResult("open product page", StepStatus.PASSED, 0.4)]
    if not ok:
        steps.append(
            StepResult(
                f"apply discount {SECRET_CODE}",
                StepStatus.FAILED,
                0.8,
                kind,
                f"The shop refused {SECRET_CODE}: 'This code is not valid'",
            )
        )
    return JourneyResult(
        name="product-to-checkout",
        journey="product-to-checkout",
        storefront="shop",
        location="test-lab",
        started_at=datetime.fromtimestamp(when, UTC),
        duration_seconds=1.2,
        steps=tuple(steps),
    )


async def until(check: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("gave up waiting")


def make(tmp: Path, receiver: AlertReceiver, clock: Clock) -> tuple[Alerting, CollectorRegistry]:
    registry = CollectorRegistry()
    loaded = config(tmp, receiver.url)
    return Alerting(loaded, Metrics(registry, "test-lab"), None, clock=clock), registry


def deliveries(registry: CollectorRegistry, result: str) -> float:
    value = registry.get_sample_value(
        "checkout_alert_deliveries_total",
        {"channel": "hook", "result": result, "location": "test-lab"},
    )
    return value or 0.0


def feed(alerting: Alerting, clock: Clock, pattern: str) -> None:
    for mark in pattern:
        clock.now += 60
        alerting.observe(result(mark == ".", clock.now))


def test_a_receiver_outage_delays_but_never_loses_or_doubles(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> None:
        with AlertReceiver(status=503, body="maintenance") as receiver:
            clock = Clock()
            alerting, registry = make(tmp_path, receiver, clock)
            await alerting.start(alerting._loaded)
            feed(alerting, clock, ".xx")  # 2 of the last 3: fires
            await until(lambda: deliveries(registry, "failed") >= 3)
            assert alerting.store.count_pending("hook") == 1
            receiver.set_status(200, "ok")
            await until(lambda: deliveries(registry, "delivered") == 1)
            feed(alerting, clock, "...")  # resolves
            await until(lambda: deliveries(registry, "delivered") == 2)
            await asyncio.sleep(0.3)  # nothing more should come
            await alerting.stop()
            bodies = [r.json for r in receiver.requests if r.json]
            answered = [b for b in bodies]
            delivered = [b["status"] for b in answered][-2:]
            assert delivered == ["firing", "resolved"]
            keys = [r.header("idempotency-key") for r in receiver.requests]
            # every retry of the firing notification carries the same key; resolved has its own
            assert len(set(keys)) == 2
            firing = answered[0]
            assert firing["rule"] == "checkout-failing"
            assert "2 of the last 3 runs failed" in firing["summary"]
            assert "discount_rejected" in firing["summary"]
            assert "Owner: Shop team" in firing["description"]
            assert "What to do:" in firing["description"]
            everything = "\n".join(
                [caplog.text, generate_latest(registry).decode()]
                + [r.body.decode() for r in receiver.requests]
                + [(tmp_path / "state" / "alerts.json").read_text()]
            )
            assert SECRET_TOKEN not in everything
            assert SECRET_CODE not in everything

    asyncio.run(scenario())


def test_a_restart_keeps_the_outbox_and_the_firing_alert(tmp_path: Path) -> None:
    async def scenario() -> None:
        with AlertReceiver(status=500) as receiver:
            clock = Clock()
            first, registry = make(tmp_path, receiver, clock)
            await first.start(first._loaded)
            feed(first, clock, "xx")
            await until(lambda: deliveries(registry, "failed") >= 1)
            await first.stop()  # the agent goes away with the notification undelivered

            receiver.set_status(200)
            receiver.clear()
            second, registry = make(tmp_path, receiver, clock)
            await second.start(second._loaded)
            await until(lambda: deliveries(registry, "delivered") == 1)
            feed(second, clock, "x")  # still failing: the restart must not fire it again
            await asyncio.sleep(0.3)
            assert [r.json["status"] for r in receiver.requests] == ["firing"]
            assert second.engine.snapshot()[0]["status"] == "firing"
            feed(second, clock, "...")
            await until(lambda: deliveries(registry, "delivered") == 2)
            await second.stop()
            assert [r.json["status"] for r in receiver.requests] == ["firing", "resolved"]

    asyncio.run(scenario())


def test_a_refused_notification_is_kept_as_a_dead_letter(tmp_path: Path) -> None:
    async def scenario() -> None:
        with AlertReceiver(status=400, body="bad payload") as receiver:
            clock = Clock()
            alerting, registry = make(tmp_path, receiver, clock)
            await alerting.start(alerting._loaded)
            feed(alerting, clock, "xx")
            await until(lambda: deliveries(registry, "rejected") == 1)
            await alerting.stop()
            assert len(receiver.requests) == 1  # a 400 is not retried
            state = json.loads((tmp_path / "state" / "alerts.json").read_text())
            assert state["outbox"] == []
            assert "400" in state["dead_letters"][0]["reason"]

    asyncio.run(scenario())


def test_an_unreadable_state_file_is_kept_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state" / "alerts.json"
    state.parent.mkdir()
    state.write_text("{ half a file")
    with AlertReceiver() as receiver:
        alerting, _registry = make(tmp_path, receiver, Clock())
    assert alerting.store.alerts == {}
    aside = list(state.parent.glob("alerts.json.unreadable-*"))
    assert len(aside) == 1 and aside[0].read_text() == "{ half a file"
    assert "moved to" in caplog.text


def test_monitor_failures_raise_monitor_unhealthy_not_the_shop_rule(tmp_path: Path) -> None:
    with AlertReceiver() as receiver:
        clock = Clock()
        alerting, _registry = make(tmp_path, receiver, clock)
        for _ in range(3):
            clock.now += 60
            alerting.observe(result(False, clock.now, FailureKind.BROWSER_CRASH))
        states = {(a["rule"], a["status"]) for a in alerting.engine.snapshot()}
    assert states == {("checkout-failing", "ok"), ("monitor-unhealthy", "firing")}
