"""The typed shape of the ``alerting:`` section: rules, flap control, channels, delivery.

A rule has exactly one condition (a failure rate over a window, F of the last T runs,
consecutive failures, a p95 latency over a window, or a drop against the same window a week
earlier), a fire threshold and an optional, lower resolve threshold (hysteresis). Channels
are named, each with exactly one kind.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator

from checkout_monitor.config.fields import (
    DURATION_SCHEMA,
    SECONDS,
    Headers,
    HttpUrl,
    Name,
    StrictModel,
    between,
)
from checkout_monitor.failure_kinds import FailureClass
from checkout_monitor.text.durations import format_duration, parse_duration

MONITOR_HEALTH_RULE = "monitor-unhealthy"
Window = Annotated[float, SECONDS, between(10, 7 * 86400)]


class Severity(StrEnum):
    """The severities PagerDuty accepts; Alertmanager routes on the same label."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class ConditionKind(StrEnum):
    FAILURE_RATE = "failure_rate_above"
    FAILURES_OF_LAST = "failures"
    CONSECUTIVE = "consecutive_failures"
    LATENCY = "p95_above"
    WEEK_OVER_WEEK = "week_over_week_drop_above"


WINDOWED = (ConditionKind.FAILURE_RATE, ConditionKind.LATENCY, ConditionKind.WEEK_OVER_WEEK)
"""The conditions judged over a window of time, on at least ``min_runs`` runs."""

_CONDITION_HINT = (
    "give exactly one condition: failure_rate_above (with window), failures with of_last, "
    "consecutive_failures, p95_above (with window) or week_over_week_drop_above (with window)"
)


def _check_label_name(value: str) -> str:
    if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", value):
        raise ValueError(
            "it is not a Prometheus label name; use letters, digits and '_', "
            "not starting with a digit"
        )
    return value


LabelName = Annotated[str, AfterValidator(_check_label_name)]
"""A label Alertmanager and Prometheus both accept, so no alert is refused for its labels."""


def _number_or_duration(value: Any) -> Any:
    """``resolve_below`` is a rate or a count, or a duration for ``p95_above`` rules."""
    return parse_duration(value) if isinstance(value, str) else value


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError(
            f"must be above 0, not {value:g}: 0.2 fires when the value moved by more than 20% "
            "of last week's"
        )
    return value


class AlertRule(StrictModel):
    """When a journey's recent runs mean a person should be told."""

    name: Name
    journeys: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    severity: Severity = Severity.CRITICAL
    # the condition: exactly one of these
    failure_rate_above: float | None = Field(None, ge=0, lt=1)
    failures: int | None = Field(None, ge=1, le=100)
    consecutive_failures: int | None = Field(None, ge=1, le=100)
    p95_above: Annotated[float, SECONDS, between(0.01, 3600)] | None = None
    # the success rate's drop (a fraction under 1) or, with step, that step's p95's rise (1.0:
    # it doubled) against the same window a week ago
    week_over_week_drop_above: (
        Annotated[
            float,
            AfterValidator(_positive),
            WithJsonSchema({"type": "number", "exclusiveMinimum": 0}),
        ]
        | None
    ) = None
    # what the condition looks at
    window: Window | None = None
    min_runs: int = Field(3, ge=1, le=1000)
    of_last: int | None = Field(None, ge=1, le=100)
    # p95_above: a step's latency instead of the whole journey's; week_over_week_drop_above:
    # that step's p95 latency rising instead of the success rate falling
    step: str | None = None
    classes: list[FailureClass] = Field(default_factory=lambda: [FailureClass.SITE], min_length=1)
    # how it fires and resolves
    resolve_below: (
        Annotated[
            float,
            BeforeValidator(_number_or_duration),
            WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, DURATION_SCHEMA]}),
        ]
        | None
    ) = Field(None, ge=0)
    for_: Annotated[float, SECONDS, between(0, 86400)] = Field(0.0, alias="for")
    labels: dict[LabelName, str] = Field(default_factory=dict)
    channels: list[Name] | None = None  # None: every channel

    @property
    def condition(self) -> ConditionKind:
        return next(kind for kind in ConditionKind if getattr(self, kind.value) is not None)

    @property
    def threshold(self) -> float:
        return float(getattr(self, self.condition.value))

    @model_validator(mode="after")
    def _one_condition(self) -> AlertRule:
        given = [kind for kind in ConditionKind if getattr(self, kind.value) is not None]
        if len(given) != 1:
            names = ", ".join(kind.value for kind in given) or "none"
            raise ValueError(f"{_CONDITION_HINT} (got {names})")
        kind = given[0]
        if kind in WINDOWED and self.window is None:
            raise ValueError(f"{kind.value} needs a window, e.g. window: 15m")
        if kind is ConditionKind.FAILURES_OF_LAST:
            if self.of_last is None:
                raise ValueError("failures needs of_last, e.g. failures: 3 with of_last: 5")
            if self.failures is not None and self.failures > self.of_last:
                raise ValueError(
                    f"failures ({self.failures}) cannot be more than of_last ({self.of_last})"
                )
        elif self.of_last is not None:
            raise ValueError("of_last only goes with failures")
        if self.step is not None and kind not in (
            ConditionKind.LATENCY,
            ConditionKind.WEEK_OVER_WEEK,
        ):
            raise ValueError("step only goes with p95_above or week_over_week_drop_above")
        if kind is ConditionKind.WEEK_OVER_WEEK and self.step is None and self.threshold >= 1:
            # a rate cannot fall by all of itself or more; a latency can rise by that much
            raise ValueError(
                f"week_over_week_drop_above must be a fraction between 0 and 1 for a success "
                f"rate, not {self.threshold:g}: 0.2 fires when it fell by more than 20% of "
                "last week's (with step, a rise of 1 or more is allowed: 1.0 = the p95 doubled)"
            )
        if self.resolve_below is not None and self.resolve_below > self.threshold:

            def shown(value: float) -> str:
                latency = kind is ConditionKind.LATENCY
                return format_duration(value) if latency else f"{value:g}"

            raise ValueError(
                f"resolve_below ({shown(self.resolve_below)}) must not be above the fire "
                f"threshold ({kind.value}: {shown(self.threshold)}); it is the lower level "
                "that resolves"
            )
        return self


class MonitorHealthRule(StrictModel):
    """The ``monitor-unhealthy`` alert: the monitor itself, not the shop, keeps failing."""

    enabled: bool = True
    failures: int = Field(3, ge=1, le=100)
    of_last: int = Field(5, ge=1, le=100)
    severity: Severity = Severity.WARNING
    channels: list[Name] | None = None

    @model_validator(mode="after")
    def _fits(self) -> MonitorHealthRule:
        if self.failures > self.of_last:
            raise ValueError(
                f"failures ({self.failures}) cannot be more than of_last ({self.of_last})"
            )
        return self


class AlertmanagerChannel(StrictModel):
    """Alertmanager's API: ``url`` for one, ``urls`` for every member of an HA cluster.

    Every alert goes to each member, as Prometheus sends it; the cluster sends one
    notification. Each member is its own delivery: one that is down holds up no other.
    """

    url: HttpUrl | None = None
    urls: list[HttpUrl] | None = Field(None, min_length=1, max_length=16)
    resend_interval: Annotated[float, SECONDS, between(5, 3600)] = 60.0

    @property
    def members(self) -> list[str]:
        """The Alertmanagers every alert goes to, in the order the config lists them."""
        return [self.url] if self.url is not None else list(self.urls or [])

    @model_validator(mode="after")
    def _one_way(self) -> AlertmanagerChannel:
        if (self.url is None) == (self.urls is None):
            got = "both" if self.url is not None else "neither"
            raise ValueError(
                "give exactly one of url (one Alertmanager) or urls (a list of every member "
                f"of an Alertmanager cluster); got {got}"
            )
        urls = self.urls or []
        for index, url in enumerate(urls):
            if url.rstrip("/") in (u.rstrip("/") for u in urls[:index]):
                first = next(i for i, u in enumerate(urls) if u.rstrip("/") == url.rstrip("/"))
                # by position only: a URL may hold a password
                raise ValueError(
                    f"urls[{index}] is the same Alertmanager as urls[{first}]; list each "
                    "member once"
                )
        return self


class WebhookChannel(StrictModel):
    url: HttpUrl
    headers: Headers = Field(default_factory=dict)


class SlackChannel(StrictModel):
    webhook_url: HttpUrl


class PagerDutyChannel(StrictModel):
    routing_key: str = Field(min_length=1)
    url: HttpUrl = "https://events.pagerduty.com/v2/enqueue"


class EmailChannel(StrictModel):
    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None  # trust this CA for STARTTLS, e.g. a private mail relay
    sender: str = Field(alias="from", min_length=3)
    to: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _auth_pair(self) -> EmailChannel:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither")
        if self.password is not None and not self.starttls:
            raise ValueError(
                "a password must not cross the network in clear text: set starttls: true, "
                "or leave out username and password"
            )
        return self


CHANNEL_KINDS = ("alertmanager", "webhook", "slack", "pagerduty", "email")


class ChannelConfig(StrictModel):
    """One named place alerts go; exactly one of the kinds below."""

    alertmanager: AlertmanagerChannel | None = None
    webhook: WebhookChannel | None = None
    slack: SlackChannel | None = None
    pagerduty: PagerDutyChannel | None = None
    email: EmailChannel | None = None
    send_resolved: bool = True

    @property
    def kind(self) -> str:
        return next(kind for kind in CHANNEL_KINDS if getattr(self, kind) is not None)

    @model_validator(mode="after")
    def _one_kind(self) -> ChannelConfig:
        given = [kind for kind in CHANNEL_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            got = ", ".join(given) or "none"
            raise ValueError(f"give exactly one of: {', '.join(CHANNEL_KINDS)} (got {got})")
        return self


class DeliveryConfig(StrictModel):
    """How hard a notification is pushed at a receiver that is down (tenacity backoff)."""

    initial_backoff: Annotated[float, SECONDS, between(0.1, 600)] = 1.0
    max_backoff: Annotated[float, SECONDS, between(1, 3600)] = 300.0
    give_up_after: Annotated[float, SECONDS, between(60, 7 * 86400)] = 86400.0
    timeout: Annotated[float, SECONDS, between(1, 120)] = 10.0


class PrometheusRulesConfig(StrictModel):
    """Extra rules that only Prometheus can evaluate (``checkout-monitor rules``)."""

    dead_mans_switch_intervals: int = Field(3, ge=2, le=100)
    locations_failing: int | None = Field(None, ge=1, le=100)  # N of M locations
    week_over_week_drop: float | None = Field(0.2, gt=0, lt=1)
    week_over_week_window: Window = 3600.0
    evaluation_group: Name = "checkout-monitor"


class AlertingConfig(StrictModel):
    """Alert rules on the journeys' results, and the channels alerts go to."""

    enabled: bool = True
    # default: $CHECKOUT_MONITOR_STATE_DIR, else checkout-monitor-state beside the config
    state_dir: str | None = None
    external_url: HttpUrl | None = None  # how people reach this agent: links in alerts
    min_firing: Annotated[float, SECONDS, between(0, 86400)] = 300.0
    min_resolved: Annotated[float, SECONDS, between(0, 86400)] = 300.0
    repeat_interval: Annotated[float, SECONDS, between(0, 7 * 86400)] = 4 * 3600.0
    rules: list[AlertRule] = Field(default_factory=list)
    monitor_unhealthy: MonitorHealthRule = Field(default_factory=MonitorHealthRule)
    channels: dict[Name, ChannelConfig] = Field(default_factory=dict)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    prometheus: PrometheusRulesConfig = Field(default_factory=PrometheusRulesConfig)
