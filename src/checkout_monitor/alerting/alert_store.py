"""The alert state files: alert states and the delivery outbox; and recent runs.

``alerts.json`` is written whole (temporary file, fsync, rename) on every change, so a
transition and the notifications it queues are saved together or not at all: after a crash
or restart the agent neither forgets a firing alert nor announces it a second time.
``history.json`` (recent runs, larger) is written at most every ``HISTORY_SAVE_EVERY``
seconds and on stop: a crash costs the rules a few runs of memory, never a notification.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checkout_monitor.alerting.notification import Notification
from checkout_monitor.alerting.run_history import RunHistory
from checkout_monitor.alerting.state_machine import AlertState
from checkout_monitor.reports.atomic_files import write_json

log = logging.getLogger("checkout_monitor.alerting.alert_store")  # the name logs and filters know
FORMAT_VERSION = 1
DEAD_LETTERS_KEPT = 100
HISTORY_FILE = "history.json"
HISTORY_SAVE_EVERY = 30.0


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
        self.history_path = path.with_name(HISTORY_FILE)
        self.alerts: dict[str, AlertState] = {}
        self.history = RunHistory(keep_seconds)
        self._outbox: dict[str, OutboxEntry] = {}  # insertion order is delivery order
        self.dead_letters: list[dict[str, Any]] = []
        self.delivered: list[str] = []  # recent keys: a re-queued transition is not re-sent
        self._failing: set[Path] = set()
        self._history_saved = time.monotonic()
        self._load(self.path, self._read_alerts)
        self._load(self.history_path, lambda data: self.history.load(data["history"]))

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

    def superseded(self, entry: OutboxEntry) -> bool:
        """Whether a later notification of the same alert waits for the same lane."""
        later = False
        for other in self._outbox.values():
            if other is entry:
                later = True
            elif (
                later
                and other.channel == entry.channel
                and other.notification.alert_id == entry.notification.alert_id
            ):
                return True
        return False

    def move_waiting(self, old: str, new: list[str]) -> int:
        """Hand what waits for a lane that is gone to the lanes that replaced it (one
        Alertmanager's ``url`` became ``urls``): the newest notification of each alert only
        (Alertmanager keeps state, not a feed), never to a lane that already waits to send
        the same alert (its own word is later) or that took this very notification.
        Returns how many were waiting."""
        waiting = self._take(lambda entry: entry.channel == old)
        newest = {e.notification.alert_id: e for e in waiting}  # the last one queued wins
        for lane in new:
            had = {e.notification.alert_id for e in self.pending(lane)}
            for entry in newest.values():
                copy = dataclasses.replace(entry, channel=lane)
                if entry.notification.alert_id not in had and copy.key not in self.delivered:
                    self._outbox.setdefault(copy.key, copy)
        return len(waiting)

    def drop_waiting(self, lane: str) -> int:
        """Forget what waits for a lane that is gone for good (an Alertmanager removed from
        ``urls``: the members that stay have every notification queued already)."""
        return len(self._take(lambda entry: entry.channel == lane))

    def discard(self, alert_id: str) -> list[OutboxEntry]:
        """Take everything that waits to be sent about one alert out of the outbox (its
        journey moved to another shard); returns what was taken."""
        return self._take(lambda entry: entry.notification.alert_id == alert_id)

    def _take(self, matches: Callable[[OutboxEntry], bool]) -> list[OutboxEntry]:
        """Remove the waiting notifications ``matches`` picks, in queue order; returns them."""
        taken = [entry for entry in self._outbox.values() if matches(entry)]
        for entry in taken:
            del self._outbox[entry.key]
        return taken

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
        self._write_alerts()
        self._write_history()

    def save(self) -> bool:
        """Save the alert states and outbox; on a full or read-only disk, say so and go on."""
        return self._saved(self.path, self._write_alerts)

    def save_history(self, *, now: bool = False) -> bool:
        """Save recent runs if ``HISTORY_SAVE_EVERY`` passed since the last time (or ``now``)."""
        if not now and time.monotonic() - self._history_saved < HISTORY_SAVE_EVERY:
            return True
        self._history_saved = time.monotonic()
        return self._saved(self.history_path, self._write_history)

    def _saved(self, path: Path, write: Callable[[], None]) -> bool:
        try:
            write()
        except OSError as exc:
            if path not in self._failing:
                log.error("cannot save the alert state to %s: %s", path, exc)
            self._failing.add(path)
            return False
        if path in self._failing:
            log.warning("the alert state is saved to %s again", path)
            self._failing.discard(path)
        return True

    def _write_alerts(self) -> None:
        write_json(
            self.path,
            {
                "version": FORMAT_VERSION,
                "alerts": {key: state.to_dict() for key, state in self.alerts.items()},
                "outbox": [entry.to_dict() for entry in self._outbox.values()],
                "delivered": self.delivered,
                "dead_letters": self.dead_letters,
            },
        )

    def _write_history(self) -> None:
        write_json(
            self.history_path, {"version": FORMAT_VERSION, "history": self.history.to_dict()}
        )

    def _read_alerts(self, data: dict[str, Any]) -> None:
        self.alerts = {k: AlertState.from_dict(v) for k, v in data["alerts"].items()}
        for raw in data["outbox"]:
            entry = OutboxEntry.from_dict(raw)
            self._outbox[entry.key] = entry
        self.delivered = list(data.get("delivered", []))
        self.dead_letters = list(data.get("dead_letters", []))

    def _load(self, path: Path, read: Callable[[dict[str, Any]], None]) -> None:
        if not path.exists():
            return
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != FORMAT_VERSION:
                raise ValueError(f"unknown format version {data.get('version')!r}")
            read(data)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            aside = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
            path.replace(aside)  # never lost: kept for a person to look at
            log.error(
                "the alert state file %s could not be read (%s); it was moved to %s and "
                "alerting starts from a clean state",
                path,
                exc,
                aside,
            )
            if path == self.path:
                self.alerts, self._outbox = {}, {}
            else:
                self.history = RunHistory(self.history.keep_seconds)
