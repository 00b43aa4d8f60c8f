"""Delivery lanes: each an outbox queue with its own worker, so a receiver that is down or
slow holds up no other.

A channel is one lane, named as the channel. An ``alertmanager`` channel with several
``urls`` is one lane per member, ``<channel>[<member id>]``, because every member must get
every alert, each retried until it takes it. The names are what the state file's outbox
keeps, so a restart finds each member's notifications again; a member is named by where
its URL points (scheme, host, port and path, hashed; not the password a URL may hold, so
rotating it keeps the lane), never by its place in the list, so removing or reordering one
entry of ``urls`` hands no member's backlog to another.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from checkout_monitor.config.alerting import ChannelConfig

_MEMBER_LANE = re.compile(r"^(?P<channel>[^\[]+)\[[^\]]+\]$")


def lane_names(name: str, config: ChannelConfig) -> list[str]:
    """The lanes of the channel ``name``: itself, or one per Alertmanager of its ``urls``,
    in the order of ``urls``."""
    members = config.alertmanager.members if config.alertmanager is not None else []
    return [name] if len(members) <= 1 else [member_lane(name, url) for url in members]


def member_lane(name: str, url: str) -> str:
    """The lane of one Alertmanager of the channel ``name``'s ``urls``; the same whatever its
    place in the list (and with or without a trailing slash, as the config compares them)."""
    parts = urlsplit(url.rstrip("/"))
    where = f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}"
    digest = hashlib.sha256(where.encode()).hexdigest()[:8]
    return f"{name}[{digest}]"


def lane_channel(lane: str) -> str:
    """The channel a lane belongs to (channel names cannot hold ``[``, so this is exact)."""
    match = _MEMBER_LANE.match(lane)
    return match["channel"] if match else lane
