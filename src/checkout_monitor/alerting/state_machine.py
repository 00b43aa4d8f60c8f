"""One alert's life per (rule, journey): ok -> pending -> firing -> resolved.

Flap control: once firing it stays firing at least ``min_firing``; once resolved it stays
resolved at least ``min_resolved``. While firing, a reminder goes out every
``repeat_interval``. Each firing episode has its own id, so every notification about it
has a key that is the same however often it is retried or the agent restarted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from checkout_monitor.alerting.conditions import Measurement


class AlertStatus(StrEnum):
    OK = "ok"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


class Transition(StrEnum):
    """The changes people are told about."""

    FIRING = "firing"
    RESOLVED = "resolved"
    REMINDER = "reminder"


@dataclass(frozen=True)
class Timing:
    for_: float
    min_firing: float
    min_resolved: float
    repeat_interval: float  # 0: no reminders


@dataclass
class AlertState:
    status: AlertStatus = AlertStatus.OK
    since: float = 0.0  # when it entered this status (Unix time)
    fired_at: float | None = None  # start of the current or last firing episode
    resolved_at: float | None = None
    last_notified: float | None = None
    reminders: int = 0
    measurement: str = ""  # the last measurement, for notifications and /alerts
    told: list[str] = field(default_factory=list)  # channels told it fired: they hear the end
    announced: dict[str, Any] | None = None  # the firing notification, to resolve it by

    @property
    def episode(self) -> str:
        return f"{int((self.fired_at or 0) * 1000)}"

    def advance(self, m: Measurement, now: float, timing: Timing) -> Transition | None:
        """Move on given a fresh measurement; return the transition to tell people about."""
        if now < self.since:  # the wall clock was set back: count from now, not an hour on
            self.since = now
            self.last_notified = min(self.last_notified or now, now)
        if m.value is not None:
            self.measurement = m.text
        if self.status in (AlertStatus.OK, AlertStatus.RESOLVED):
            if not m.breached:
                return None
            if self.status is AlertStatus.RESOLVED and now - self.since < timing.min_resolved:
                return None  # flap control: too soon after resolving
            if timing.for_ > 0:
                self._enter(AlertStatus.PENDING, now)
                return None
            return self._fire(now)
        if self.status is AlertStatus.PENDING:
            if m.unknown:
                return None  # not a look at all: the wait goes on (fires on the next breach)
            if not m.breached:  # too few runs to judge, too: as in Prometheus, no result
                self._enter(AlertStatus.OK, now)  # it never fired: nobody to tell
                return None
            if now - self.since >= timing.for_:
                return self._fire(now)
            return None
        # firing
        if m.recovered and now - self.since >= timing.min_firing:
            self._enter(AlertStatus.RESOLVED, now)
            self.resolved_at = now
            self.last_notified = now
            return Transition.RESOLVED
        due = (self.last_notified or self.since) + timing.repeat_interval
        if timing.repeat_interval > 0 and not m.recovered and now >= due:
            self.last_notified = now
            self.reminders += 1
            return Transition.REMINDER
        return None

    def _fire(self, now: float) -> Transition:
        self._enter(AlertStatus.FIRING, now)
        self.fired_at = now
        self.resolved_at = None
        self.last_notified = now
        self.reminders = 0
        return Transition.FIRING

    def _enter(self, status: AlertStatus, now: float) -> None:
        self.status = status
        self.since = now

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertState:
        values = dict(data)
        values["status"] = AlertStatus(values["status"])
        values["told"] = list(values.get("told", []))
        return cls(**values)
