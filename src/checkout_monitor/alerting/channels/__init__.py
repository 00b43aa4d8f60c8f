"""Alert channels by kind: the one place a configured channel becomes a sender.

``CHANNEL_BUILDERS`` is the registry (one entry per kind in ``alert_config.CHANNEL_KINDS``;
a test keeps the two equal). Every sender makes exactly one attempt per ``send``; retries,
backoff and the outbox belong to the dispatcher.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from checkout_monitor.alerting.channels.alertmanager import AlertmanagerSender
from checkout_monitor.alerting.channels.base import Channel, DeliveryError
from checkout_monitor.alerting.channels.email import EmailSender
from checkout_monitor.alerting.channels.pagerduty import PagerDutySender
from checkout_monitor.alerting.channels.slack import SlackSender
from checkout_monitor.alerting.channels.webhook import WebhookSender
from checkout_monitor.alerting.lanes import lane_names
from checkout_monitor.config.alerting import ChannelConfig

# (channel name, that kind's config model, shared HTTP client, timeout in seconds) -> sender
ChannelBuilder = Callable[[str, Any, httpx.AsyncClient, float], Channel]

CHANNEL_BUILDERS: dict[str, ChannelBuilder] = {
    "alertmanager": AlertmanagerSender,
    "webhook": WebhookSender,
    "slack": SlackSender,
    "pagerduty": PagerDutySender,
    "email": lambda name, config, _http, timeout: EmailSender(name, config, timeout),
}


def build_lanes(
    name: str, config: ChannelConfig, http: httpx.AsyncClient, timeout: float
) -> dict[str, Channel]:
    """The senders of one named channel by lane (see ``lanes.py``): the channel's own sender,
    or one per Alertmanager of its ``urls``."""
    lanes = lane_names(name, config)
    if config.alertmanager is not None and len(lanes) > 1:
        return {
            lane: AlertmanagerSender(name, config.alertmanager, http, timeout, member=index)
            for index, lane in enumerate(lanes)
        }
    return {name: build_channel(name, config, http, timeout)}


def build_channel(
    name: str, config: ChannelConfig, http: httpx.AsyncClient, timeout: float
) -> Channel:
    """The sender for one named channel; HTTP kinds share ``http`` (one client per agent)."""
    return CHANNEL_BUILDERS[config.kind](name, getattr(config, config.kind), http, timeout)


__all__ = ["CHANNEL_BUILDERS", "Channel", "DeliveryError", "build_channel", "build_lanes"]
