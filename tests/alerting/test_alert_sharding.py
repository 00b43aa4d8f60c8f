"""Alert state stays with the journey's owner: a sharded agent judges only the journeys its
shard owns; an alert of a journey that moved to another shard is dropped with what still
waits to be sent about it, and ended with a "resolved" that says it was handed over, while
one whose journey left the config resolves as removed. A real webhook receiver hears what
the channels send."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from checkout_monitor.agent.sharding import Shard, owner
from checkout_monitor.alerting.service import Alerting
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.results import JourneyResult
from support.alert_receivers import AlertReceiver
from support.alerting_support import (
    alerting_config,
    failed_step,
    journey_result,
    passed_step,
    until,
)
from support.manual_clock import ManualClock

JOURNEY = "product-to-checkout"
OWNER = owner(JOURNEY, 3)
ELSEWHERE = (OWNER + 1) % 3


def config(tmp: Path, receiver_url: str, journeys: str = JOURNEY) -> LoadedConfig:
    """The journeys (display names, comma-separated) of the demo journey, one webhook."""
    return alerting_config(
        tmp,
        journeys="".join(
            f"- journey: product-to-checkout\n  name: {name}\n  storefront: shop\n"
            for name in journeys.split(",")
        ),
        rules="- name: checkout-failing\n  failures: 2\n  of_last: 3\n",
        channels=f"hook:\n  webhook:\n    url: {receiver_url}/hook\n",
    )


def failed(name: str, when: float) -> JourneyResult:
    return journey_result(when, failed_step(message="declined"), name=name)


def passed(name: str, when: float) -> JourneyResult:
    return journey_result(when, passed_step(), name=name)


def alerting(
    loaded: LoadedConfig, clock: ManualClock, owns: Callable[[str], bool] | None = None
) -> Alerting:
    metrics = Metrics(CollectorRegistry(), "test-lab")
    if owns is None:
        return Alerting(loaded, metrics, None, clock=clock)
    return Alerting(loaded, metrics, None, clock=clock, owns=owns)


def two_runs(
    target: Alerting, clock: ManualClock, result: Callable[[str, float], JourneyResult]
) -> None:
    """Two runs of the journey a minute apart: what the rule needs to fire, or to resolve."""
    for _ in range(2):
        clock.now += 60
        target.observe(result(JOURNEY, clock.now))


async def fire(tmp: Path, receiver: AlertReceiver, clock: ManualClock) -> None:
    """An unsharded agent's alert for the journey fires, is delivered, and is saved."""
    first = alerting(config(tmp, receiver.url), clock)
    await first.start()
    two_runs(first, clock, failed)
    await until(lambda: len(receiver.requests) == 1)
    await first.stop()


def test_a_shard_judges_only_the_journeys_it_owns(tmp_path: Path) -> None:
    clock = ManualClock()
    other = "discount-codes"  # a name another shard of 3 owns
    assert owner(other, 3) != OWNER
    loaded = config(tmp_path, "http://127.0.0.1:9", f"{JOURNEY},{other}")
    judged = alerting(loaded, clock, Shard(OWNER, 3).owns)
    assert {a["journey"] for a in judged.engine.snapshot()} == {JOURNEY}
    clock.now += 60
    for _ in range(3):
        judged.observe(failed(other, clock.now))  # a run from elsewhere is not judged here
    assert {a["journey"] for a in judged.engine.snapshot()} == {JOURNEY}
    everyone = alerting(loaded, clock)
    assert {a["journey"] for a in everyone.engine.snapshot()} == {JOURNEY, other}


HANDED_OVER = "handed over to another shard of the fleet"


def test_an_alert_that_moved_to_another_shard_ends_here_with_a_handover(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)

    async def scenario() -> None:
        with AlertReceiver() as receiver:
            clock = ManualClock()
            await fire(tmp_path, receiver, clock)
            # restarted as shard ELSEWHERE of 3: the journey is still configured, not its own
            second = alerting(config(tmp_path, receiver.url), clock, Shard(ELSEWHERE, 3).owns)
            assert second.store.alerts == {}
            assert second.engine.snapshot() == []
            await second.start()
            await until(lambda: len(receiver.requests) == 2)
            clock.now += 60
            second.tick()  # nothing of the alert is left here to refresh or remind
            assert second.store.count_pending("hook") == 0
            await second.stop()
            statuses = [r.json["status"] for r in receiver.requests]
            assert statuses == ["firing", "resolved"]
            ended = receiver.requests[1].json
            assert HANDED_OVER in ended["summary"]
            assert "new owner alerts again if it still fails" in ended["summary"]
            assert ended["alert_id"] == receiver.requests[0].json["alert_id"]

    asyncio.run(scenario())
    assert HANDED_OVER in caplog.text


def test_a_firing_still_queued_when_its_journey_moved_is_never_sent(tmp_path: Path) -> None:
    """The receiver was down when the alert fired: after a restart as another shard the old
    owner sends neither the stale "firing" (it could re-open the alert later) nor a handover
    for an alert the receiver never heard of."""

    async def scenario() -> None:
        with AlertReceiver(status=503, body="down") as receiver:
            clock = ManualClock()
            first = alerting(config(tmp_path, receiver.url), clock)
            await first.start()
            two_runs(first, clock, failed)
            await until(lambda: len(receiver.requests) >= 1)
            await first.stop()
            assert first.store.count_pending("hook") == 1  # the firing, owed at restart

            receiver.set_status(200)
            receiver.clear()
            second = alerting(config(tmp_path, receiver.url), clock, Shard(ELSEWHERE, 3).owns)
            # it never heard the alert fire, so it has nothing to end: nothing waits for it
            assert second.store.count_pending("hook") == 0
            await second.start()
            await second.stop()
            assert receiver.requests == []

    asyncio.run(scenario())


def test_an_alert_whose_journey_left_the_config_still_resolves_on_a_shard(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        with AlertReceiver() as receiver:
            clock = ManualClock()
            await fire(tmp_path, receiver, clock)
            renamed = config(tmp_path, receiver.url, "checkout.eu")
            second = alerting(renamed, clock, Shard(ELSEWHERE, 3).owns)
            await second.start()
            await until(lambda: len(receiver.requests) == 2)
            await second.stop()
            ended = receiver.requests[1].json
            assert ended["status"] == "resolved"
            assert "removed from the config" in ended["summary"]

    asyncio.run(scenario())


def test_a_resolve_still_queued_when_its_journey_moved_becomes_the_handover(
    tmp_path: Path,
) -> None:
    """The receiver heard the alert fire and was down when it resolved: after the move it
    gets the handover as the end, which says the new owner judges the journey now."""

    async def scenario() -> None:
        with AlertReceiver() as receiver:
            clock = ManualClock()
            first = alerting(config(tmp_path, receiver.url), clock)
            await first.start()
            two_runs(first, clock, failed)
            await until(lambda: len(receiver.requests) == 1)
            receiver.set_status(503)
            two_runs(first, clock, passed)
            await until(lambda: len(receiver.requests) >= 2)
            await first.stop()
            assert first.store.count_pending("hook") == 1  # the resolved, owed at restart

            receiver.set_status(200)
            receiver.clear()
            second = alerting(config(tmp_path, receiver.url), clock, Shard(ELSEWHERE, 3).owns)
            await second.start()
            await until(lambda: len(receiver.requests) == 1)
            await until(lambda: second.store.count_pending("hook") == 0)
            await second.stop()
            assert [r.json["status"] for r in receiver.requests] == ["resolved"]
            assert HANDED_OVER in receiver.requests[0].json["summary"]

    asyncio.run(scenario())


def test_alertmanager_gets_no_handover_the_new_owner_keeps_its_alert_by_labels(
    tmp_path: Path,
) -> None:
    """An Alertmanager knows the alert by its labels, which the new owner posts too: a
    handover "resolved" there could end the new owner's alert if it fired first (a rolling
    update restarts shard 0 last). The webhook beside it still hears the handover."""

    async def scenario() -> None:
        with AlertReceiver() as hook, AlertReceiver() as alertmanager:
            clock = ManualClock()

            def both() -> LoadedConfig:
                return alerting_config(
                    tmp_path,
                    journeys="- journey: product-to-checkout\n  storefront: shop\n",
                    rules="- name: checkout-failing\n  failures: 2\n  of_last: 3\n",
                    channels=f"hook:\n  webhook:\n    url: {hook.url}/hook\n"
                    f"am:\n  alertmanager:\n    url: {alertmanager.url}\n",
                )

            first = alerting(both(), clock)
            await first.start()
            two_runs(first, clock, failed)
            await until(lambda: len(hook.requests) == 1 and len(alertmanager.requests) >= 1)
            await first.stop()
            posts = len(alertmanager.requests)

            second = alerting(both(), clock, Shard(ELSEWHERE, 3).owns)
            await second.start()
            await until(lambda: len(hook.requests) == 2)
            await until(lambda: second.store.count_pending("am") == 0)
            await second.stop()
            assert HANDED_OVER in hook.requests[1].json["summary"]
            assert len(alertmanager.requests) == posts  # nothing more: no "resolved"

    asyncio.run(scenario())
