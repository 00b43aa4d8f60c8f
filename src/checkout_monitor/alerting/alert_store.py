"""The alert state file: alert states, recent runs and the delivery outbox, in one document.

One file written whole (temporary file, fsync, rename) means a transition and the
notifications it queues are saved together or not at all: after a crash or restart the
agent neither forgets a firing alert nor announces it a second time.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checkout_monitor.alerting.notification import Notification
from checkout_monitor.alerting.run_history import RunHistory
from checkout_monitor.alerting.state_machine import AlertState
from checkout_monitor.atomic_files import write_json

log = logging.getLogger(__name__)
FORMAT_VERSION = 1
DEAD_LETTERS_KEPT = 100


@dataclass
class OutboxEntry:
    """A notification waiting for one channel; removed only once the channel took it."""

    channel: str
    notification: Notification
    created_at: float
    attempts: int = 0
    last_error: str = ""

    @property
    def key(self) -> str:
        return f"{self.notification.key}@{self.channel}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "notification": self.notification.to_dict(),
            "created_at": self.created_at,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutboxEntry:
        return cls(
            channel=data["channel"],
            notification=Notification.from_dict(data["notification"]),
            created_at=data["created_at"],
            attempts=data.get("attempts", 0),
            last_error=data.get("last_error", ""),
        )


class AlertStore:
    """Everything alerting must remember across restarts, saved by ``save()``."""

    def __init__(self, path: Path, keep_seconds: float) -> None:
        self.path = path
        self.alerts: dict[str, AlertState] = {}
        self.history = RunHistory(keep_seconds)
        self._outbox: dict[str, OutboxEntry] = {}  # insertion order is delivery order
        self.dead_letters: list[dict[str, Any]] = []
        self.delivered: list[str] = []  # recent keys: a re-queued transition is not re-sent
        self._save_failing = False
        self._load()

    # --- outbox ------------------------------------------------------------------------------

    def enqueue(self, channel: str, notification: Notification, now: float) -> bool:
        """Queue once per (transition, channel); False if it is queued or was delivered."""
        entry = OutboxEntry(channel, notification, now)
        if entry.key in self._outbox or entry.key in self.delivered:
            return False
        self._outbox[entry.key] = entry
        return True

    def pending(self, channel: str) -> Iterator[OutboxEntry]:
        return (e for e in list(self._outbox.values()) if e.channel == channel)

    def count_pending(self, channel: str) -> int:
        return sum(1 for e in self._outbox.values() if e.channel == channel)

    def has_pending(self, channel: str, alert_id: str) -> bool:
        return any(
            e.channel == channel and e.notification.alert_id == alert_id
            for e in self._outbox.values()
        )

    def channels_waiting(self) -> set[str]:
        return {e.channel for e in self._outbox.values()}

    def done(self, entry: OutboxEntry) -> None:
        self._outbox.pop(entry.key, None)
        self.delivered = [*self.delivered[-(DEAD_LETTERS_KEPT * 10 - 1) :], entry.key]

    def give_up(self, entry: OutboxEntry, reason: str) -> None:
        self._outbox.pop(entry.key, None)
        record = {**entry.to_dict(), "given_up_at": time.time(), "reason": reason}
        self.dead_letters = [*self.dead_letters[-(DEAD_LETTERS_KEPT - 1) :], record]

    # --- the file ----------------------------------------------------------------------------

    def check_writable(self) -> None:
        """Raise ``OSError`` now if the state cannot be saved, rather than at the first alert."""
        self._write()

    def save(self) -> bool:
        """Save; on a full or read-only disk, say so and keep going from memory."""
        try:
            self._write()
        except OSError as exc:
            if not self._save_failing:
                log.error("cannot save the alert state to %s: %s", self.path, exc)
            self._save_failing = True
            return False
        if self._save_failing:
            log.warning("the alert state is saved to %s again", self.path)
        self._save_failing = False
        return True

    def _write(self) -> None:
        write_json(
            self.path,
            {
                "version": FORMAT_VERSION,
                "alerts": {key: state.to_dict() for key, state in self.alerts.items()},
                "history": self.history.to_dict(),
                "outbox": [entry.to_dict() for entry in self._outbox.values()],
                "delivered": self.delivered,
                "dead_letters": self.dead_letters,
            },
        )

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") != FORMAT_VERSION:
                raise ValueError(f"unknown format version {data.get('version')!r}")
            self.alerts = {k: AlertState.from_dict(v) for k, v in data["alerts"].items()}
            self.history.load(data["history"])
            for raw in data["outbox"]:
                entry = OutboxEntry.from_dict(raw)
                self._outbox[entry.key] = entry
            self.delivered = list(data.get("delivered", []))
            self.dead_letters = list(data.get("dead_letters", []))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            aside = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
            self.path.replace(aside)  # never lost: kept for a person to look at
            log.error(
                "the alert state file %s could not be read (%s); it was moved to %s and "
                "alerting starts from a clean state",
                self.path,
                exc,
                aside,
            )
            self.alerts, self._outbox = {}, {}
            self.history = RunHistory(self.history.keep_seconds)
