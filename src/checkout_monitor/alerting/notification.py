"""``Notification``: one alert transition, as every channel receives it.

Built once when the transition happens and stored in the outbox as plain data, so what is
delivered after a restart is exactly what was decided before it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class NotificationStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Notification:
    key: str  # unique per transition: receivers and the outbox deduplicate on it
    alert_id: str  # stable per (location, rule, journey): PagerDuty's dedup_key
    status: NotificationStatus
    rule: str
    journey: str
    location: str
    severity: str
    summary: str  # one line: what broke, where, since when
    description: str  # a few lines: the failing step, what the shop showed, what to do
    starts_at: datetime
    ends_at: datetime | None = None  # set when resolved
    reminder: bool = False  # still firing, told again after the repeat interval
    owner: str | None = None
    runbook: str | None = None
    generator_url: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # alertname, journey, severity, ...

    @property
    def title(self) -> str:
        """``[FIRING] checkout-failing: product-to-checkout`` and the like."""
        state = "REMINDER" if self.reminder else self.status.value.upper()
        return f"[{state}] {self.rule}: {self.journey} ({self.location})"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["starts_at"] = self.starts_at.isoformat()
        data["ends_at"] = self.ends_at.isoformat() if self.ends_at else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notification:
        values = dict(data)
        values["status"] = NotificationStatus(values["status"])
        values["starts_at"] = datetime.fromisoformat(values["starts_at"])
        ends = values.get("ends_at")
        values["ends_at"] = datetime.fromisoformat(ends) if ends else None
        return cls(**values)
