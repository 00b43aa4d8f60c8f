"""What every channel is: something that delivers a ``Notification`` or says why not."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from checkout_monitor.alerting.notification import Notification


class DeliveryError(Exception):
    """A delivery that did not happen.

    ``transient`` failures (connection refused, timeouts, 5xx, 429) are retried from the
    outbox; the others (a 4xx that says the request itself is wrong) are not. The message
    never holds a URL, a token or a password: it goes to logs.
    """

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Channel(Protocol):
    """One configured receiver. ``send`` raises ``DeliveryError`` on any failure."""

    name: str
    # "" for a channel with one receiver; else this receiver's position in the channel's list
    # (an alertmanager channel's urls): a bounded metric label that never shows a URL
    member: str
    # True when the receiver keeps each alert's latest state (Alertmanager) rather than a
    # feed of messages: of several notifications of one alert waiting, only the newest goes
    keeps_state: bool

    async def send(self, notification: Notification, now: datetime) -> None: ...
