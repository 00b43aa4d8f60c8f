"""The alert engine, state file and outbox with a real HTTP receiver: no loss, no duplicates.

Journey results are built by hand here (the browser side has its own tests), so a receiver
outage, an agent restart and a corrupt state file can each be staged in well under a second.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from datetime import datetime
from pathlib import Path
from textwrap import dedent, indent

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from checkout_monitor.alerting.dispatcher import Dispatcher
from checkout_monitor.alerting.notification import Notification
from checkout_monitor.alerting.run_history import RunRecord
from checkout_monitor.alerting.service import Alerting
from checkout_monitor.config.alerting import DeliveryConfig
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.results import JourneyResult
from support.alert_receivers import AlertReceiver
from support.alerting_support import (
    ONE_JOURNEY,
    alerting_config,
    failed_step,
    journey_result,
    passed_step,
    until,
)
from support.manual_clock import ManualClock

SECRET_TOKEN = "canary-hook-token-5f3a9"
SECRET_CODE = "CANARY-SECRET-CODE"


def config(
    tmp: Path,
    receiver_url: str,
    extra: str = "",
    rule_extra: str = "",
    name: str = "checkout-failing",
) -> LoadedConfig:
    """``extra``: more channels; ``rule_extra``: more keys of the rule (any indentation)."""
    rule = f"- name: {name}\n  failures: 2\n  of_last: 3\n  resolve_below: 1\n"
    hook = (
        "hook:\n  webhook:\n    url: " + receiver_url + "/hook/${HOOK_TOKEN}\n"
        "    headers:\n      X-Code: ${DISCOUNT_CODE}\n"
    )
    return alerting_config(
        tmp,
        journeys=ONE_JOURNEY + "  owner: Shop team (shop@example.com)\n"
        "  runbook: https://runbooks.example.com/checkout\n",
        rules=rule + indent(dedent(rule_extra), "  "),
        channels=hook + dedent(extra),
        environ={"HOOK_TOKEN": SECRET_TOKEN, "DISCOUNT_CODE": SECRET_CODE},
    )


def result(
    ok: bool, when: float, kind: FailureKind = FailureKind.DISCOUNT_REJECTED
) -> JourneyResult:
    refused = f"The shop refused {SECRET_CODE}: 'This code is not valid'"
    failure = failed_step(kind, refused, f"apply discount {SECRET_CODE}")
    return journey_result(when, passed_step("open product page"), *([] if ok else [failure]))


def make(
    tmp: Path, receiver: AlertReceiver, clock: ManualClock
) -> tuple[Alerting, CollectorRegistry]:
    registry = CollectorRegistry()
    loaded = config(tmp, receiver.url)
    return Alerting(loaded, Metrics(registry, "test-lab"), None, clock=clock), registry


def deliveries(registry: CollectorRegistry, result: str) -> float:
    value = registry.get_sample_value(
        "checkout_alert_deliveries_total",
        {"channel": "hook", "member": "", "result": result, "location": "test-lab"},
    )
    return value or 0.0


def delivery_workers(channel: str) -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith(f"alerts-{channel}-")]


def feed(alerting: Alerting, clock: ManualClock, pattern: str) -> None:
    for mark in pattern:
        clock.now += 60
        alerting.observe(result(mark == ".", clock.now))


def test_a_receiver_outage_delays_but_never_loses_or_doubles(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> None:
        with AlertReceiver(status=503, body="maintenance") as receiver:
            clock = ManualClock()
            alerting, registry = make(tmp_path, receiver, clock)
            await alerting.start()
            feed(alerting, clock, ".xx")  # 2 of the last 3: fires
            await until(lambda: deliveries(registry, "failed") >= 3)
            assert alerting.store.count_pending("hook") == 1
            receiver.set_status(200, "ok")
            await until(lambda: deliveries(registry, "delivered") == 1)
            feed(alerting, clock, "...")  # resolves
            await until(lambda: deliveries(registry, "delivered") == 2)
            assert alerting.store.count_pending("hook") == 0  # nothing more will come
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
            clock = ManualClock()
            first, registry = make(tmp_path, receiver, clock)
            await first.start()
            feed(first, clock, "xx")
            await until(lambda: deliveries(registry, "failed") >= 1)
            await first.stop()  # the agent goes away with the notification undelivered

            receiver.set_status(200)
            receiver.clear()
            second, registry = make(tmp_path, receiver, clock)
            await second.start()
            await until(lambda: deliveries(registry, "delivered") == 1)
            feed(second, clock, "x")  # still failing: the restart must not fire it again
            assert second.store.count_pending("hook") == 0
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
            clock = ManualClock()
            alerting, registry = make(tmp_path, receiver, clock)
            await alerting.start()
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
        alerting, _registry = make(tmp_path, receiver, ManualClock())
    assert alerting.store.alerts == {}
    aside = list(state.parent.glob("alerts.json.unreadable-*"))
    assert len(aside) == 1 and aside[0].read_text() == "{ half a file"
    assert "moved to" in caplog.text


def test_monitor_failures_raise_monitor_unhealthy_not_the_shop_rule(tmp_path: Path) -> None:
    with AlertReceiver() as receiver:
        clock = ManualClock()
        alerting, _registry = make(tmp_path, receiver, clock)
        for _ in range(3):
            clock.now += 60
            alerting.observe(result(False, clock.now, FailureKind.BROWSER_CRASH))
        states = {(a["rule"], a["status"]) for a in alerting.engine.snapshot()}
    assert states == {("checkout-failing", "ok"), ("monitor-unhealthy", "firing")}


def am_channel(url: str) -> str:
    return f"    am:\n      alertmanager:\n        url: {url}\n        resend_interval: 5s\n"


def test_a_rule_removed_while_the_agent_was_down_still_resolves(tmp_path: Path) -> None:
    async def scenario() -> None:
        with AlertReceiver() as receiver:
            clock = ManualClock()
            first, registry = make(tmp_path, receiver, clock)
            await first.start()
            feed(first, clock, "xx")
            await until(lambda: deliveries(registry, "delivered") == 1)
            await first.stop()

            renamed = config(tmp_path, receiver.url, name="checkout-broken")
            second = Alerting(renamed, Metrics(CollectorRegistry(), "test-lab"), None, clock=clock)
            await second.start()
            await until(lambda: len(receiver.requests) == 2)
            await second.stop()
            ended = receiver.requests[1].json
            assert (ended["status"], ended["rule"]) == ("resolved", "checkout-failing")
            assert "removed from the config" in ended["summary"]

    asyncio.run(scenario())


def test_a_resolve_goes_to_the_channels_that_heard_it_fire(tmp_path: Path) -> None:
    async def scenario() -> None:
        with AlertReceiver() as hook, AlertReceiver() as other:
            clock = ManualClock()
            registry = CollectorRegistry()
            extra = f"    other:\n      webhook:\n        url: {other.url}/other\n"
            loaded = config(tmp_path, hook.url, extra, rule_extra="      channels: [hook]")
            alerting = Alerting(loaded, Metrics(registry, "test-lab"), None, clock=clock)
            await alerting.start()
            feed(alerting, clock, "xx")
            await until(lambda: len(hook.requests) == 1)
            alerting.configure(
                config(tmp_path, hook.url, extra, rule_extra="      channels: [other]")
            )
            feed(alerting, clock, "...")
            await until(lambda: len(hook.requests) == 2)
            assert alerting.store.count_pending("other") == 0  # nothing was queued for it
            await alerting.stop()
            assert [r.json["status"] for r in hook.requests] == ["firing", "resolved"]
            assert other.requests == []  # it never heard of this alert

    asyncio.run(scenario())


def test_a_reloaded_channel_takes_over_without_sending_twice(tmp_path: Path) -> None:
    async def scenario() -> None:
        with AlertReceiver(status=503) as receiver:
            clock = ManualClock()
            alerting, registry = make(tmp_path, receiver, clock)
            await alerting.start()
            feed(alerting, clock, "xx")
            await until(lambda: deliveries(registry, "failed") >= 1)
            changed = config(tmp_path, receiver.url).config.alerting.delivery
            faster = alerting._loaded.config.model_copy(
                update={
                    "alerting": alerting._loaded.config.alerting.model_copy(
                        update={"delivery": changed.model_copy(update={"timeout": 3.0})}
                    )
                }
            )
            alerting._loaded.config = faster
            alerting.configure(alerting._loaded)  # a new channel object, the same name
            receiver.set_status(200)
            await until(lambda: deliveries(registry, "delivered") == 1)
            # the replaced worker ends at its next look (it backs off in steps of a second)
            await until(lambda: len(delivery_workers("hook")) == 1)
            await alerting.stop()
            statuses = [r.json["status"] for r in receiver.requests if r.json]
            assert statuses.count("firing") - deliveries(registry, "failed") == 1

    asyncio.run(scenario())


def test_a_late_alertmanager_gets_an_alert_that_is_still_active(tmp_path: Path) -> None:
    async def scenario() -> None:
        with AlertReceiver(status=503) as hook, AlertReceiver(status=503) as alertmanager:
            clock = ManualClock()
            loaded = config(tmp_path, hook.url, am_channel(alertmanager.url))
            registry = CollectorRegistry()
            alerting = Alerting(loaded, Metrics(registry, "test-lab"), None, clock=clock)
            await alerting.start()
            feed(alerting, clock, "xx")
            await until(lambda: len(alertmanager.requests) >= 1)
            clock.now += 3600  # down for an hour: far longer than 4 resend intervals
            alertmanager.set_status(200)
            await until(lambda: alertmanager.requests[-1:] and len(alertmanager.requests) >= 2)
            await until(lambda: deliveries_to(registry, "am", "delivered") == 1)
            await alerting.stop()
            last = alertmanager.requests[-1].json[0]
            ends = datetime.fromisoformat(last["endsAt"]).timestamp()
            assert ends > clock.now  # still active when it finally arrives

    asyncio.run(scenario())


def deliveries_to(registry: CollectorRegistry, channel: str, result: str) -> float:
    labels = {"channel": channel, "member": "", "result": result, "location": "test-lab"}
    return registry.get_sample_value("checkout_alert_deliveries_total", labels) or 0.0


def test_firing_gauge_after_a_restart_and_no_resolve_before_it_fired(
    tmp_path: Path,
) -> None:
    with AlertReceiver() as receiver:
        clock = ManualClock()
        first, _registry = make(tmp_path, receiver, clock)
        feed(first, clock, "xx")
        first.store.save_history(now=True)
        second, registry = make(tmp_path, receiver, clock)
        firing = {
            "rule": "checkout-failing",
            "journey": "product-to-checkout",
            "severity": "critical",
            "location": "test-lab",
        }
        assert registry.get_sample_value("checkout_alert_firing", firing) == 1
        clock.now -= 3600  # the wall clock is set back an hour before the shop recovers
        second.tick()
        feed(second, clock, "...")  # resolved, "before" it fired by the wall clock
        assert registry.get_sample_value("checkout_alert_firing", firing) == 0
        resolved = [e for e in second.store.pending("hook") if e.notification.status == "resolved"]
        notice = resolved[0].notification
        assert notice.ends_at is not None and notice.ends_at >= notice.starts_at


def test_a_failing_message_is_redacted_before_it_is_cut_short() -> None:
    secret = "S" * 40
    failed = result(False, 1_800_000_000.0)
    long_message = "x" * 280 + secret
    step = dataclasses.replace(failed.steps[-1], message=long_message)
    record = RunRecord.from_result(
        dataclasses.replace(failed, steps=(failed.steps[0], step)), [secret]
    )
    assert "SSSS" not in record.message


class _BuggyChannel:
    """A channel with a bug in it (our own code, so nothing real to run instead)."""

    name = "hook"
    member = ""
    keeps_state = False

    async def send(self, notification: Notification, now: datetime) -> None:
        raise RuntimeError("a bug")


def test_a_bug_in_a_channel_dead_letters_the_notification_and_the_queue_moves_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        with AlertReceiver() as receiver:
            clock = ManualClock()
            alerting, _registry = make(tmp_path, receiver, clock)
            feed(alerting, clock, "xx")
            dispatcher = Dispatcher(
                alerting.store, Metrics(CollectorRegistry(), "test-lab"), clock=clock
            )
            dispatcher.configure({"hook": _BuggyChannel()}, DeliveryConfig(), [])
            await until(lambda: alerting.store.count_pending("hook") == 0)
            await dispatcher.stop()
            assert alerting.store.dead_letters[0]["reason"] == "internal error RuntimeError"
            assert "failed because of a bug" in caplog.text

    asyncio.run(scenario())
