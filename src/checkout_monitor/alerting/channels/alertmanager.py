"""Alerts posted to Alertmanager's API v2, the way Prometheus itself posts them.

With ``urls`` (an HA cluster) every member gets every alert, as Prometheus sends them; the
members deduplicate among themselves and notify once. A firing alert ends 4 resend intervals
from now, so it stays active between re-posts and expires on its own if this agent dies;
Alertmanager deduplicates the re-posts by labels.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from checkout_monitor.alerting.channels.http_post import (
    JsonPost,
    JsonPostSender,
    url_secrets,
)
from checkout_monitor.alerting.channels.message_text import rfc3339
from checkout_monitor.alerting.notification import Notification, NotificationStatus
from checkout_monitor.config.alerting import AlertmanagerChannel

_RESENDS_BEFORE_EXPIRY = 4  # Prometheus's own factor for endsAt on firing alerts
_NOT_LABEL_CHAR = re.compile(r"[^a-zA-Z0-9_]")


def label_name(name: str) -> str:
    """A config name such as ``team-name`` as a label name Alertmanager accepts
    (``[a-zA-Z_][a-zA-Z0-9_]*``), instead of a 400 that loses the alert."""
    cleaned = _NOT_LABEL_CHAR.sub("_", name)
    return f"_{cleaned}" if cleaned[:1].isdigit() or not cleaned else cleaned


def alert_labels(notification: Notification) -> dict[str, str]:
    """The notification's labels, always with alertname, journey, location and severity."""
    labels = {
        "alertname": notification.rule,
        "journey": notification.journey,
        "location": notification.location,
        "severity": notification.severity,
    }
    labels.update(notification.labels)
    return {label_name(name): value for name, value in labels.items()}


def alert_body(notification: Notification, now: datetime, resend_interval: float) -> dict[str, Any]:
    """One alert as ``POST /api/v2/alerts`` takes it (the request body is a list of these)."""
    annotations = {
        "summary": notification.summary,
        "description": notification.description,
        "owner": notification.owner or "",
        "runbook_url": notification.runbook or "",
    }
    if notification.status is NotificationStatus.RESOLVED:
        ends = notification.ends_at or now
    else:
        ends = now + timedelta(seconds=_RESENDS_BEFORE_EXPIRY * resend_interval)
    alert: dict[str, Any] = {
        "labels": alert_labels(notification),
        "annotations": {name: text for name, text in annotations.items() if text},
        "startsAt": rfc3339(notification.starts_at),
        "endsAt": rfc3339(ends),
    }
    if notification.generator_url:
        alert["generatorURL"] = notification.generator_url
    return alert


class AlertmanagerSender(JsonPostSender[AlertmanagerChannel]):
    """Posts each notification to one Alertmanager: the channel's ``url``, or one member of
    its ``urls`` (each member has its own sender, lane and worker)."""

    kind = "alertmanager"
    # A member back after an outage must not get an episode's stale "firing" just before its
    # "resolved": it could page "firing" in between, when the others already said it is over.
    keeps_state = True

    def __init__(
        self,
        name: str,
        config: AlertmanagerChannel,
        http: httpx.AsyncClient,
        timeout: float,
        *,
        member: int = 0,
    ) -> None:
        super().__init__(name, config, http, timeout)
        self._url = config.members[member]
        # a position, never the URL: it goes to metric labels and logs, and URLs hold secrets
        self.member = str(member) if len(config.members) > 1 else ""

    @property
    def where(self) -> str:
        where = super().where
        return f"{where} (urls[{self.member}])" if self.member else where

    def request(self, notification: Notification, now: datetime) -> JsonPost:
        return JsonPost(
            f"{self._url}/api/v2/alerts",
            [alert_body(notification, now, self.config.resend_interval)],
            secrets=url_secrets(self._url),
        )
