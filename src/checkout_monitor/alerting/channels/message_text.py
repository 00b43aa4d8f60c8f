"""How times and alert states are written in messages, the same in every channel.

Machines get RFC 3339 in UTC; people get ``2024-05-01 10:00 UTC`` and ``for 12m``, so a
Slack message and an email about the same alert say the same thing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from checkout_monitor.alerting.notification import Notification, NotificationStatus
from checkout_monitor.text.durations import format_duration


def as_utc(moment: datetime) -> datetime:
    """A naive datetime is taken to be UTC already, never the machine's local time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def from_timestamp(timestamp: float) -> datetime:
    """A Unix time (what the state file and the clocks keep) as an aware UTC datetime."""
    return datetime.fromtimestamp(timestamp, UTC)


def rfc3339(moment: datetime) -> str:
    """``2024-05-01T10:00:00.000Z``: what Alertmanager and JSON receivers parse."""
    return as_utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def human_time(moment: datetime) -> str:
    """``2024-05-01 10:00:00 UTC``: unambiguous for people in any time zone."""
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def lasted(start: datetime, end: datetime) -> str:
    """``12m``, ``2h5m``: how long between two moments, never negative."""
    return format_duration(max(0.0, (as_utc(end) - as_utc(start)).total_seconds()))


def state_word(notification: Notification) -> str:
    """FIRING, STILL FIRING (a reminder) or RESOLVED."""
    if notification.status is NotificationStatus.RESOLVED:
        return "RESOLVED"
    return "STILL FIRING" if notification.reminder else "FIRING"


def when_sentence(notification: Notification, now: datetime) -> str:
    """When it started and how long it has lasted, or lasted, in one sentence."""
    start = human_time(notification.starts_at)
    if notification.status is NotificationStatus.RESOLVED:
        end = notification.ends_at or now
        took = lasted(notification.starts_at, end)
        return f"Resolved after {took} (from {start} to {human_time(end)})."
    return f"Failing since {start} ({lasted(notification.starts_at, now)} so far)."
