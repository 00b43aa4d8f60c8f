"""An alertmanager channel with several ``urls``: each Alertmanager is its own delivery lane.

Real HTTP servers stand in for the members here (the agent posts the same API to either;
test_alertmanager_cluster.py has two real clustered Alertmanagers), so a member that never
answers, one that is down across an agent restart, and a changed list can each be staged in
a second or two.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from checkout_monitor.alerting.service import STATE_FILE, Alerting
from checkout_monitor.config.loader import parse_config
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.results import JourneyResult, StepResult, StepStatus
from support.alert_receivers import AlertReceiver
from support.manual_clock import ManualClock

RULE = "checkout-failing"


def make(
    tmp: Path, members: list[str], clock: ManualClock, *, timeout: str = "5s"
) -> tuple[Alerting, CollectorRegistry]:
    """Alerting with one alertmanager channel ``am``: ``url`` for one member, else ``urls``."""
    where = f"url: {members[0]}" if len(members) == 1 else f"urls: [{', '.join(members)}]"
    text = f"""
location: test-lab
storefronts:
  shop:
    extends: demo
    base_url: http://127.0.0.1:9
journeys:
  - journey: product-to-checkout
    storefront: shop
alerting:
  state_dir: state
  min_firing: 0s
  min_resolved: 0s
  delivery:
    initial_backoff: 100ms
    max_backoff: 1s
    timeout: {timeout}
  rules:
    - name: {RULE}
      consecutive_failures: 2
  channels:
    am:
      alertmanager:
        {where}
"""
    registry = CollectorRegistry()
    loaded = parse_config(text, "members.yaml", tmp, {})
    return Alerting(loaded, Metrics(registry, "test-lab"), None, clock=clock), registry


def fail_twice(alerting: Alerting, clock: ManualClock) -> None:
    """Two failed runs: the rule fires."""
    for _ in range(2):
        run(alerting, clock, ok=False)


def run(alerting: Alerting, clock: ManualClock, *, ok: bool) -> None:
    """One run of the journey a minute after the last; a passing run resolves the alert."""
    clock.now += 60
    if ok:
        step = StepResult("pay", StepStatus.PASSED, 0.5)
    else:
        step = StepResult(
            "pay", StepStatus.FAILED, 0.5, FailureKind.PAYMENT_DECLINED, "card declined"
        )
    alerting.observe(
        JourneyResult(
            name="product-to-checkout",
            journey="product-to-checkout",
            storefront="shop",
            location="test-lab",
            started_at=datetime.fromtimestamp(clock.now, UTC),
            duration_seconds=0.5,
            steps=(step,),
        )
    )


def deliveries(registry: CollectorRegistry, member: str, result: str) -> float:
    labels = {"channel": "am", "member": member, "result": result, "location": "test-lab"}
    return registry.get_sample_value("checkout_alert_deliveries_total", labels) or 0.0


def alerts_posted(receiver: AlertReceiver) -> list[str]:
    """The alertname of every alert posted to the receiver, whatever it answered."""
    return [alert["labels"]["alertname"] for r in receiver.requests for alert in r.json]


async def until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("gave up waiting")


def test_a_member_that_never_answers_holds_back_no_other(tmp_path: Path) -> None:
    async def scenario() -> None:
        with (
            socket.create_server(("127.0.0.1", 0)) as silent,  # accepts, never answers
            AlertReceiver() as answering,
        ):
            silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
            clock = ManualClock()
            # a minute's timeout: one worker for both would hold the second that long
            alerting, registry = make(tmp_path, [silent_url, answering.url], clock, timeout="60s")
            await alerting.start()
            fail_twice(alerting, clock)
            await until(lambda: deliveries(registry, "1", "delivered") == 1)
            assert alerts_posted(answering) == [RULE]
            # the silent member is still on its first attempt, its notification waiting
            assert deliveries(registry, "0", "failed") == 0
            assert alerting.store.count_pending("am[0]") == 1
            assert alerting.store.count_pending("am[1]") == 0
            waiting = {"channel": "am", "member": "0", "location": "test-lab"}
            await until(
                lambda: registry.get_sample_value("checkout_alert_outbox_pending", waiting) == 1
            )
            exposed = generate_latest(registry).decode()
            silent.close()  # its connection is reset: the attempt fails, the agent can stop
            await alerting.stop()
        assert str(silent_url.rsplit(":", 1)[1]) not in exposed  # members by position only
        assert 'member="1"' in exposed

    asyncio.run(scenario())


def test_a_member_that_is_down_gets_its_alert_after_a_restart_and_the_other_only_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> None:
        with AlertReceiver(status=503, body="down") as down, AlertReceiver() as up:
            clock = ManualClock()
            members = [down.url, up.url]
            first, registry = make(tmp_path, members, clock)
            assert "-> am (alertmanager, 2 members);" in first.describe()
            await first.start()
            fail_twice(first, clock)
            await until(lambda: deliveries(registry, "0", "failed") >= 2)
            assert deliveries(registry, "1", "delivered") == 1
            await first.stop()  # the agent goes away, member 0 still owed the alert

            saved = json.loads((tmp_path / "state" / STATE_FILE).read_text())
            assert [entry["channel"] for entry in saved["outbox"]] == ["am[0]"]

            down.set_status(200)
            down.clear()
            second, registry = make(tmp_path, members, clock)
            await second.start()
            await until(lambda: deliveries(registry, "0", "delivered") == 1)
            fail_twice(second, clock)  # still firing: nobody is told again
            await asyncio.sleep(0.3)
            await second.stop()
            assert alerts_posted(down) == [RULE]
            assert alerts_posted(up) == [RULE]
            assert deliveries(registry, "1", "delivered") == 0

    asyncio.run(scenario())
    assert "not delivered to am[0]" in caplog.text
    assert "alertmanager channel 'am' (urls[0]): HTTP 503" in caplog.text
    assert "127.0.0.1" not in caplog.text


def test_a_member_back_after_a_whole_episode_gets_only_its_end(tmp_path: Path) -> None:
    """Alertmanager keeps each alert's state: a member that missed the firing and the
    resolve gets the resolve alone, never a stale firing it could page for."""

    async def scenario() -> None:
        with AlertReceiver(status=503) as down, AlertReceiver() as up:
            clock = ManualClock()
            alerting, registry = make(tmp_path, [down.url, up.url], clock)
            await alerting.start()
            fail_twice(alerting, clock)
            await until(lambda: deliveries(registry, "1", "delivered") == 1)
            run(alerting, clock, ok=True)  # resolves while member 0 is still down
            await until(lambda: deliveries(registry, "1", "delivered") == 2)
            assert alerting.store.count_pending("am[0]") == 2
            down.set_status(200)
            await until(lambda: alerting.store.count_pending("am[0]") == 0)
            await alerting.stop()
            assert deliveries(registry, "0", "delivered") == 1
            resolved = up.requests[-1].json
            assert datetime.fromisoformat(resolved[0]["endsAt"]).timestamp() <= clock.now
            assert down.requests[-1].json == resolved

    asyncio.run(scenario())


def test_what_waited_for_one_alertmanager_goes_to_each_member_of_the_new_list(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        with AlertReceiver(status=503) as old, AlertReceiver() as added:
            clock = ManualClock()
            first, registry = make(tmp_path, [old.url], clock)
            await first.start()
            fail_twice(first, clock)
            await until(lambda: deliveries(registry, "", "failed") >= 1)
            await first.stop()

            old.set_status(200)
            old.clear()
            second, registry = make(tmp_path, [old.url, added.url], clock)
            await second.start()
            await until(lambda: all(deliveries(registry, m, "delivered") == 1 for m in ("0", "1")))
            await second.stop()
            assert alerts_posted(old) == [RULE]
            assert alerts_posted(added) == [RULE]

    asyncio.run(scenario())
    assert "waiting for am go to every Alertmanager of channel 'am'" in caplog.text
