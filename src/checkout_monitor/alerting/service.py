"""Alerting as the agent sees it: one object to start, feed results, tick, reload and stop.

Owns the state file, the rule engine, the channels (with one shared HTTP client) and the
delivery workers, so the scheduler needs four calls and knows nothing of channels.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

import httpx

from checkout_monitor.alerting.alert_store import AlertStore
from checkout_monitor.alerting.channels import build_lanes
from checkout_monitor.alerting.channels.base import Channel
from checkout_monitor.alerting.dispatcher import Dispatcher
from checkout_monitor.alerting.engine import AlertEngine, everything
from checkout_monitor.alerting.lanes import lane_channel, lane_names, member_lane
from checkout_monitor.config.alerting import ChannelConfig
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.results import JourneyResult

log = logging.getLogger("checkout_monitor.alerting.alerting")  # the name logs and filters know
# httpx logs every request with its URL, and a Slack or webhook URL is itself a secret
for _chatty in ("httpx", "httpcore"):
    logging.getLogger(_chatty).setLevel(logging.WARNING)
STATE_FILE = "alerts.json"
ChannelKey = tuple[ChannelConfig, float]  # what a channel is built from: its config, timeout


class Alerting:
    def __init__(
        self,
        loaded: LoadedConfig,
        metrics: Metrics,
        status_url: str | None,
        *,
        clock: Callable[[], float] = time.time,
        owns: Callable[[str], bool] = everything,
    ) -> None:
        """Open the state file; raises ``OSError`` if it cannot be written. ``owns``: the
        journeys (by display name) this agent runs and so judges; a sharded agent's own."""
        self.store = AlertStore(loaded.state_dir() / STATE_FILE, keep_seconds=3600)
        self.store.check_writable()
        self._status_url = status_url
        self.engine = AlertEngine(self.store, metrics, clock=clock, owns=owns)
        self._dispatcher = Dispatcher(self.store, metrics, clock=clock)
        self._http: httpx.AsyncClient | None = None
        self._channels: dict[str, tuple[ChannelKey, dict[str, Channel]]] = {}  # by lane
        self._loaded = loaded
        self.engine.configure(loaded, self._generator_url(loaded))

    async def start(self) -> None:
        """Start delivering: the rules already run since ``__init__``; now the channels."""
        self._http = httpx.AsyncClient(follow_redirects=False)
        self._use_channels(self._loaded, self._http)
        waiting = sum(self.store.count_pending(c) for c in self.store.channels_waiting())
        if waiting:
            log.warning(
                "%d alert notification(s) from before the restart wait for delivery", waiting
            )

    def configure(self, loaded: LoadedConfig) -> None:
        """Take a (re)loaded config: new rules, and new channels where their config changed.
        A bug here is logged and the previous alerting setup keeps working."""
        try:
            self._configure(loaded)
        except Exception:
            log.exception("alerting could not take the new config (a bug); it keeps the last one")

    def _configure(self, loaded: LoadedConfig) -> None:
        before = self._loaded.config.alerting
        after = loaded.config.alerting
        if (before.enabled, self._loaded.state_dir()) != (after.enabled, loaded.state_dir()):
            log.warning(
                "alerting.enabled and alerting.state_dir take effect at the next restart; "
                "until then alerting goes on as it started"
            )
        self._loaded = loaded
        self.engine.configure(loaded, self._generator_url(loaded))
        if self._http is not None:  # started: channels deliver
            self._use_channels(loaded, self._http)

    def _use_channels(self, loaded: LoadedConfig, http: httpx.AsyncClient) -> None:
        """Deliver to the configured channels, rebuilding only those whose config changed."""
        after = loaded.config.alerting
        timeout = after.delivery.timeout
        channels: dict[str, tuple[ChannelKey, dict[str, Channel]]] = {}
        for name, config in after.channels.items():
            key = (config, timeout)
            old = self._channels.get(name)
            if old is not None and old[0] == key:
                channels[name] = old
            else:
                channels[name] = (key, build_lanes(name, config, http, timeout))
        self._channels = channels
        lanes = {
            lane: sender for _key, senders in channels.values() for lane, sender in senders.items()
        }
        self._move_orphaned_lanes(lanes)
        self._dispatcher.configure(lanes, after.delivery, loaded.secrets)

    def _move_orphaned_lanes(self, lanes: dict[str, Channel]) -> None:
        """An alertmanager channel's ``url``/``urls`` changed. What waited for its one ``url``
        goes to each member of its new ``urls`` (or stays with that Alertmanager if it is
        still listed); what waited for a member removed from ``urls`` is dropped: every
        notification was queued for each member, so the members that stay have their own."""
        for waiting in sorted(self.store.channels_waiting() - set(lanes)):
            name = lane_channel(waiting)
            config = self._loaded.config.alerting.channels.get(name)
            if config is None or config.alertmanager is None:
                continue  # the channel itself is gone: the dispatcher says so
            new = lane_names(name, config)
            members = config.alertmanager.members
            if waiting == name:
                moved = self.store.move_waiting(waiting, new)
                log.warning(
                    "%d notification(s) waiting for channel %r go to each of its "
                    "Alertmanagers now (the newest of each alert): its url became urls",
                    moved,
                    name,
                )
            elif len(members) == 1 and member_lane(name, members[0]) == waiting:
                self.store.move_waiting(waiting, new)  # urls became url: that member stays
            else:
                dropped = self.store.drop_waiting(waiting)
                log.warning(
                    "%d notification(s) waiting for an Alertmanager removed from channel %r's "
                    "urls are dropped: the members that stay have their own",
                    dropped,
                    name,
                )
            self.store.save()

    def observe(self, result: JourneyResult) -> None:
        try:
            self.engine.observe(result)
        except Exception:  # a bug must not take the agent, or the next results, with it
            log.exception("alerting could not judge the result of %s (a bug)", result.name)
        self._wake_delivery()

    def tick(self) -> None:
        try:
            self.engine.tick()
        except Exception:
            log.exception("alerting could not re-evaluate its rules (a bug)")
        self._wake_delivery()

    async def stop(self) -> None:
        """Stop delivering; what is not delivered stays in the outbox for the next start."""
        try:
            await self._dispatcher.stop()
        finally:
            # the reader thread may be in the middle of a read: waited for off the loop
            await asyncio.to_thread(self.engine.close)
            self.store.save()
            self.store.save_history(now=True)
            if self._http is not None:
                await self._http.aclose()

    def page(self) -> tuple[bytes, str]:
        """``/alerts``: every (rule, journey) with its state, as JSON."""
        body = json.dumps({"alerts": self.engine.snapshot()}, indent=2) + "\n"
        return body.encode(), "application/json"

    def describe(self) -> str:
        """The line ``serve`` prints at start: where alerts go and where state is kept."""
        config = self._loaded.config.alerting
        rules = len(config.rules) + (1 if config.monitor_unhealthy.enabled else 0)
        channels = ", ".join(f"{n} ({_kind(c)})" for n, c in config.channels.items()) or (
            "no channels (alerts only in the log, /alerts and metrics)"
        )
        return f"alerting: {rules} rule(s) -> {channels}; state in {self.store.path}"

    def _wake_delivery(self) -> None:
        if self.engine.queued:
            self.engine.queued = False
            self._dispatcher.kick()

    def _generator_url(self, loaded: LoadedConfig) -> str | None:
        base = loaded.config.alerting.external_url or self._status_url
        return f"{base}/alerts" if base else None


def _kind(config: ChannelConfig) -> str:
    """``alertmanager``, or ``alertmanager, 2 members`` for an HA cluster's ``urls``."""
    members = len(config.alertmanager.members) if config.alertmanager is not None else 1
    return f"{config.kind}, {members} members" if members > 1 else config.kind
