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
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from checkout_monitor.alerting.lanes import member_lane
from checkout_monitor.alerting.service import STATE_FILE, Alerting
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.metrics.families import Metrics
from support.alert_receivers import AlertReceiver
from support.alerting_support import (
    FAST_DELIVERY,
    alerting_config,
    failed_step,
    journey_result,
    passed_step,
    until,
)
from support.manual_clock import ManualClock

RULE = "checkout-failing"


def make(
    tmp: Path, members: list[str], clock: ManualClock, *, timeout: str = "5s"
) -> tuple[Alerting, CollectorRegistry]:
    """Alerting with one alertmanager channel ``am``: ``url`` for one member, else ``urls``."""
    registry = CollectorRegistry()
    loaded = members_config(tmp, members, timeout)
    return Alerting(loaded, Metrics(registry, "test-lab"), None, clock=clock), registry


def members_config(tmp: Path, members: list[str], timeout: str = "5s") -> LoadedConfig:
    where = f"url: {members[0]}" if len(members) == 1 else f"urls: [{', '.join(members)}]"
    return alerting_config(
        tmp,
        rules=f"- name: {RULE}\n  consecutive_failures: 2\n",
        channels=f"am:\n  alertmanager:\n    {where}\n",
        delivery=f"{FAST_DELIVERY}timeout: {timeout}\n",
    )


def fail_twice(alerting: Alerting, clock: ManualClock) -> None:
    """Two failed runs: the rule fires."""
    for _ in range(2):
        run(alerting, clock, ok=False)


def run(alerting: Alerting, clock: ManualClock, *, ok: bool) -> None:
    """One run of the journey a minute after the last; a passing run resolves the alert."""
    clock.now += 60
    alerting.observe(journey_result(clock.now, passed_step() if ok else failed_step()))


def deliveries(registry: CollectorRegistry, member: str, result: str) -> float:
    labels = {"channel": "am", "member": member, "result": result, "location": "test-lab"}
    return registry.get_sample_value("checkout_alert_deliveries_total", labels) or 0.0


def alerts_posted(receiver: AlertReceiver) -> list[str]:
    """The alertname of every alert posted to the receiver, whatever it answered."""
    return [alert["labels"]["alertname"] for r in receiver.requests for alert in r.json]


def outbox_gauge(registry: CollectorRegistry, member: str) -> float | None:
    labels = {"channel": "am", "member": member, "location": "test-lab"}
    return registry.get_sample_value("checkout_alert_outbox_pending", labels)


def states(receiver: AlertReceiver, clock: ManualClock) -> list[str]:
    """What each alert posted to the receiver said: resolved once its end has come."""
    return [
        "resolved" if datetime.fromisoformat(alert["endsAt"]).timestamp() <= clock.now else "firing"
        for r in receiver.requests
        for alert in r.json
    ]


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
            assert alerting.store.count_pending(member_lane("am", silent_url)) == 1
            assert alerting.store.count_pending(member_lane("am", answering.url)) == 0
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
            assert [entry["channel"] for entry in saved["outbox"]] == [member_lane("am", down.url)]

            down.set_status(200)
            down.clear()
            second, registry = make(tmp_path, members, clock)
            await second.start()
            await until(lambda: deliveries(registry, "0", "delivered") == 1)
            fail_twice(second, clock)  # still firing: nobody is told again
            assert not second.store.channels_waiting()
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
            lane = member_lane("am", down.url)
            assert alerting.store.count_pending(lane) == 2
            down.set_status(200)
            await until(lambda: alerting.store.count_pending(lane) == 0)
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
    assert "waiting for channel 'am' go to each of its Alertmanagers now" in caplog.text


@pytest.mark.parametrize(
    "after",
    [pytest.param(["a", "c"], id="removed"), pytest.param(["b", "c", "a"], id="reordered")],
)
def test_a_members_backlog_stays_its_own_when_urls_change(
    tmp_path: Path, after: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Member b is down for a whole episode; then ``urls`` changes. Removed, its backlog is
    dropped (a and c have theirs); reordered, it stays b's. Never does another member get
    it, nor a stale "firing" (lanes are named by member, not by place in the list)."""

    async def scenario() -> None:
        with AlertReceiver() as a, AlertReceiver(status=503) as b, AlertReceiver() as c:
            by_name = {"a": a, "b": b, "c": c}
            clock = ManualClock()
            alerting, registry = make(tmp_path, [a.url, b.url, c.url], clock)
            await alerting.start()
            fail_twice(alerting, clock)
            await until(lambda: all(deliveries(registry, m, "delivered") == 1 for m in "02"))
            run(alerting, clock, ok=True)
            await until(lambda: all(deliveries(registry, m, "delivered") == 2 for m in "02"))
            [lane] = alerting.store.channels_waiting()  # b's: the firing and the resolved
            assert alerting.store.count_pending(lane) == 2

            alerting.configure(members_config(tmp_path, [by_name[m].url for m in after]))
            if "b" in after:  # its own backlog, and only that, waits for it
                assert alerting.store.channels_waiting() == {lane}
                b.set_status(200)
                b.clear()
                await until(lambda: not alerting.store.channels_waiting())
            else:  # nothing waits for anyone: nothing more will be sent
                assert not alerting.store.channels_waiting()
            await alerting.stop()
            for receiver in (a, c):
                assert states(receiver, clock) == ["firing", "resolved"]
            if "b" in after:  # back after the whole episode: its end alone
                assert states(b, clock) == ["resolved"]

    asyncio.run(scenario())
    if "b" not in after:
        assert "2 notification(s) waiting for an Alertmanager removed from channel 'am'" in (
            caplog.text
        )


def test_a_backlog_moved_between_url_and_urls_keeps_the_newest_and_skips_what_was_taken(
    tmp_path: Path,
) -> None:
    """a is down for a whole episode that b took; ``urls: [a, b]`` becomes ``url: a`` (a's
    backlog stays a's, the members' outbox series go) and back: a gets the episode's end
    once, b nothing again."""

    async def scenario() -> None:
        with AlertReceiver(status=503) as a, AlertReceiver() as b:
            clock = ManualClock()
            alerting, registry = make(tmp_path, [a.url, b.url], clock)
            await alerting.start()
            fail_twice(alerting, clock)
            await until(lambda: deliveries(registry, "1", "delivered") == 1)
            run(alerting, clock, ok=True)
            await until(lambda: deliveries(registry, "1", "delivered") == 2)
            assert alerting.store.count_pending(member_lane("am", a.url)) == 2
            await until(lambda: (outbox_gauge(registry, "0") or 0) >= 1)

            alerting.configure(members_config(tmp_path, [a.url]))
            # the members' series go with their lanes, or the gauge would stay stuck above 0
            assert outbox_gauge(registry, "0") is None
            assert outbox_gauge(registry, "1") is None
            assert alerting.store.channels_waiting() == {"am"}
            assert alerting.store.count_pending("am") == 1  # the newest word: resolved
            alerting.configure(members_config(tmp_path, [a.url, b.url]))
            assert alerting.store.channels_waiting() == {member_lane("am", a.url)}
            assert alerting.store.count_pending(member_lane("am", a.url)) == 1

            a.set_status(200)
            a.clear()
            await until(lambda: not alerting.store.channels_waiting())
            await alerting.stop()
            assert states(a, clock) == ["resolved"]
            assert states(b, clock) == ["firing", "resolved"]

    asyncio.run(scenario())


def test_a_members_lane_survives_a_password_rotation_and_names_no_url() -> None:
    """Its credentials can only live in the URL: rotating them must not orphan (and so
    drop) the member's backlog; another host or path is another member."""
    lane = member_lane("am", "https://ops:old-secret@am-0.example:9093")
    assert lane == member_lane("am", "https://ops:new-secret@am-0.example:9093/")
    assert lane != member_lane("am", "https://ops:old-secret@am-1.example:9093")
    assert lane != member_lane("am", "https://ops:old-secret@am-0.example:9093/prefix")
    assert "secret" not in lane and "example" not in lane
