"""A generic JSON webhook: the whole notification, versioned, with an idempotency key.

Receivers that see the same ``Idempotency-Key`` twice (a retry after a lost answer) can
drop the repeat; ``alert_id`` ties a firing to its resolution.
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
from checkout_monitor.alerting.notification import Notification
from checkout_monitor.config.alerting import WebhookChannel

PAYLOAD_VERSION = "1"  # bumped only when a field changes meaning or goes away


def webhook_body(notification: Notification) -> dict[str, Any]:
    """The documented payload, version 1."""
    return {
        "version": PAYLOAD_VERSION,
        "key": notification.key,
        "alert_id": notification.alert_id,
        "status": notification.status.value,
        "reminder": notification.reminder,
        "rule": notification.rule,
        "journey": notification.journey,
        "location": notification.location,
        "severity": notification.severity,
        "summary": notification.summary,
        "description": notification.description,
        "owner": notification.owner,
        "runbook": notification.runbook,
        "starts_at": rfc3339(notification.starts_at),
        "ends_at": rfc3339(notification.ends_at) if notification.ends_at else None,
        "generator_url": notification.generator_url,
        "labels": dict(notification.labels),
    }


class WebhookSender(JsonPostSender[WebhookChannel]):
    """Posts each notification to one URL, with the configured headers (often a token)."""

    kind = "webhook"

    def request(self, notification: Notification, now: datetime) -> JsonPost:
        # a configured header never replaces the key: receivers deduplicate on it
        headers = {
            name: value
            for name, value in self.config.headers.items()
            if name.lower() != "idempotency-key"
        }
        headers["Idempotency-Key"] = notification.key
        return JsonPost(
            self.config.url,
            webhook_body(notification),
            headers,
            [*url_secrets(self.config.url), *self.config.headers.values()],
        )
