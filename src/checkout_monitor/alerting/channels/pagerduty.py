"""PagerDuty Events API v2: trigger and resolve one PagerDuty alert per (location, rule, journey).

``dedup_key`` is the notification's ``alert_id``, so reminders land on the open incident and
the resolution closes it. The routing key is a secret: it never appears in error messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from checkout_monitor.alerting.channels.http_post import (
    JsonPost,
    JsonPostSender,
    url_secrets,
)
from checkout_monitor.alerting.channels.message_text import rfc3339
from checkout_monitor.alerting.notification import Notification, NotificationStatus
from checkout_monitor.config.alerting import PagerDutyChannel, Severity

CLIENT = "checkout-monitor"
_SUMMARY_CHARS = 1024  # PagerDuty refuses a longer payload.summary
_SEVERITIES = frozenset(severity.value for severity in Severity)


def pagerduty_severity(severity: str) -> str:
    """One of PagerDuty's four; anything else (a custom label) pages as ``error``."""
    return severity if severity in _SEVERITIES else Severity.ERROR.value


def pagerduty_event(notification: Notification, routing_key: str) -> dict[str, Any]:
    """A trigger with everything on-call needs, or a bare resolve for the same dedup key."""
    action = "resolve" if notification.status is NotificationStatus.RESOLVED else "trigger"
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": notification.alert_id,
    }
    if action == "resolve":
        return event
    summary = notification.summary
    if len(summary) > _SUMMARY_CHARS:
        summary = summary[: _SUMMARY_CHARS - 1] + "…"
    details = {
        "description": notification.description,
        "rule": notification.rule,
        "journey": notification.journey,
        "location": notification.location,
        "owner": notification.owner,
        "runbook": notification.runbook,
        "reminder": notification.reminder,
        "labels": dict(notification.labels),
    }
    event["payload"] = {
        "summary": summary,
        "source": notification.location,
        "severity": pagerduty_severity(notification.severity),
        "timestamp": rfc3339(notification.starts_at),
        "component": notification.journey,
        "group": notification.rule,
        "custom_details": {name: value for name, value in details.items() if value is not None},
    }
    if notification.runbook:
        event["links"] = [{"href": notification.runbook, "text": "Runbook"}]
    event["client"] = CLIENT
    if notification.generator_url:
        event["client_url"] = notification.generator_url
    return event


class PagerDutySender(JsonPostSender[PagerDutyChannel]):
    """Sends each notification as one event to one PagerDuty service (its routing key)."""

    kind = "pagerduty"

    def request(self, notification: Notification, now: datetime) -> JsonPost:
        return JsonPost(
            self.config.url,
            pagerduty_event(notification, self.config.routing_key),
            secrets=[self.config.routing_key, *url_secrets(self.config.url)],
        )
