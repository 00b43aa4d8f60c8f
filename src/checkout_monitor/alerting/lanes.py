"""Delivery lanes: each an outbox queue with its own worker, so a receiver that is down or
slow holds up no other.

A channel is one lane, named as the channel. An ``alertmanager`` channel with several
``urls`` is one lane per member, ``<channel>[<index>]``, because every member must get every
alert, each retried until it takes it. The names are what the state file's outbox keeps, so
a restart finds each member's notifications again.
"""

from __future__ import annotations

import re

from checkout_monitor.config.alerting import ChannelConfig

_MEMBER_LANE = re.compile(r"^(?P<channel>[^\[]+)\[\d+\]$")


def lane_names(name: str, config: ChannelConfig) -> list[str]:
    """The lanes of the channel ``name``: itself, or one per Alertmanager of its ``urls``."""
    members = len(config.alertmanager.members) if config.alertmanager is not None else 1
    return [name] if members == 1 else [f"{name}[{index}]" for index in range(members)]


def lane_channel(lane: str) -> str:
    """The channel a lane belongs to (channel names cannot hold ``[``, so this is exact)."""
    match = _MEMBER_LANE.match(lane)
    return match["channel"] if match else lane
