"""Turn journey results into alert transitions and queue their notifications.

The agent calls ``observe`` after every run and ``tick`` on its scheduler tick (so ``for:``,
flap control, sliding windows and reminders move on even between runs). Every change is
saved to the state file together with the notifications it queued.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from checkout_monitor.alerting.alert_store import AlertStore
from checkout_monitor.alerting.channels.message_text import from_timestamp as _utc
from checkout_monitor.alerting.channels.message_text import human_time
from checkout_monitor.alerting.conditions import measure
from checkout_monitor.alerting.lanes import lane_channel, lane_names
from checkout_monitor.alerting.notification import Notification, NotificationStatus
from checkout_monitor.alerting.run_history import RunRecord
from checkout_monitor.alerting.state_machine import AlertState, AlertStatus, Timing, Transition
from checkout_monitor.alerting.week_over_week import WeekOverWeekChecks
from checkout_monitor.config.alerting import (
    MONITOR_HEALTH_RULE,
    AlertingConfig,
    AlertRule,
    ChannelConfig,
    ConditionKind,
)
from checkout_monitor.config.model import JourneyConfig, LoadedConfig
from checkout_monitor.evidence.redaction import MARKUP_SAFE, redact
from checkout_monitor.failure_kinds import FailureClass, FailureKind
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.results import JourneyResult
from checkout_monitor.text.durations import format_duration

log = logging.getLogger("checkout_monitor.alerting.engine")  # the name logs and filters know
_TICK_EVERY = 1.0


@dataclass(frozen=True)
class AlertTarget:
    """One rule applied to one journey: the unit that has a state."""

    rule: AlertRule
    journey: JourneyConfig
    channels: tuple[str, ...]
    monitor_health: bool = False

    @property
    def key(self) -> str:
        return f"{self.rule.name}/{self.journey.display_name}"

    @property
    def week_over_week(self) -> bool:
        return self.rule.condition is ConditionKind.WEEK_OVER_WEEK


def alert_targets(alerting: AlertingConfig, journeys: list[JourneyConfig]) -> list[AlertTarget]:
    """Every (rule, journey) pair the config asks for, the monitor-health rule included."""
    enabled = [j for j in journeys if j.enabled]
    every_channel = tuple(alerting.channels)
    targets = []
    for rule in alerting.rules:
        channels = tuple(rule.channels) if rule.channels is not None else every_channel
        for journey in enabled:
            if any(fnmatch.fnmatchcase(journey.display_name, p) for p in rule.journeys):
                targets.append(AlertTarget(rule, journey, channels))
    health = alerting.monitor_unhealthy
    if health.enabled:
        rule = AlertRule.model_validate(
            {
                "name": MONITOR_HEALTH_RULE,
                "failures": health.failures,
                "of_last": health.of_last,
                "severity": health.severity,
                "classes": [FailureClass.MONITOR],
            }
        )
        channels = tuple(health.channels) if health.channels is not None else every_channel
        targets += [
            AlertTarget(rule, journey, channels, monitor_health=True) for journey in enabled
        ]
    return targets


def everything(_journey: str) -> bool:
    """An agent that is not sharded judges every journey."""
    return True


class AlertEngine:
    def __init__(
        self,
        store: AlertStore,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        owns: Callable[[str], bool] = everything,
    ) -> None:
        """``owns``: whether this agent runs a journey (its shard does); only those are judged."""
        self._store = store
        self._owns = owns
        self._monotonic = monotonic  # the tick's pace: a wall clock set back must not stall it
        self._metrics = metrics
        self._clock = clock
        self._targets: dict[str, AlertTarget] = {}
        self._channels: dict[str, ChannelConfig] = {}
        self._timing = Timing(0, 0, 0, 0)
        self._secrets: frozenset[str] = frozenset()
        self._location = metrics.location
        self._generator_url: str | None = None
        self._last_tick = -_TICK_EVERY
        self._latency_steps: frozenset[str] = frozenset()
        self._refreshed: dict[tuple[str, str], float] = {}  # Alertmanager re-posts
        self._week_over_week = WeekOverWeekChecks(monotonic=monotonic)
        self._history_enabled: bool | None = None  # history.enabled as the agent started
        self._last_check: dict[str, str] = {}  # each target's latest measurement, verdict or not
        self.queued = False  # set when notifications were queued; the agent wakes delivery

    def configure(self, loaded: LoadedConfig, generator_url: str | None) -> None:
        """Take a (re)loaded config. Alerts whose rule or journey is gone are resolved, also
        when they were firing before a restart: the channels that heard them fire hear the end.

        Alerts of a journey another shard owns (it moved away with a new shard count) are
        dropped with what still waits in the outbox for them (a stale "firing" delivered
        later could re-open what the new owner resolved); a firing one is ended with a
        "resolved" that says it was handed over (docs/fleet.md, "Alert state")."""
        alerting = loaded.config.alerting
        old = self._targets
        configured = {t.key for t in alert_targets(alerting, loaded.config.journeys)}
        owned = [j for j in loaded.config.journeys if self._owns(j.display_name)]
        self._targets = {t.key: t for t in alert_targets(alerting, owned)}
        self._channels = dict(alerting.channels)
        self._secrets = loaded.secrets
        self._location = loaded.config.location
        self._generator_url = generator_url
        self._timing = Timing(
            0, alerting.min_firing, alerting.min_resolved, alerting.repeat_interval
        )
        self._latency_steps = frozenset(r.step for r in alerting.rules if r.step)
        in_memory = [r for r in alerting.rules if r.condition is not ConditionKind.WEEK_OVER_WEEK]
        self._store.history.keep_seconds = max([3600.0, *(r.window or 0 for r in in_memory)])
        if self._history_enabled is None:  # read at start only, as serve starts the recorder
            self._history_enabled = loaded.config.history.enabled
        elif loaded.config.history.enabled != self._history_enabled:
            log.warning(
                "history.enabled takes effect at the next restart; until then the run "
                "history is %s",
                "recorded and read" if self._history_enabled else "off",
            )
        self._week_over_week.configure(
            loaded.history_path() if self._history_enabled else None,
            {key: t.rule for key, t in self._targets.items() if t.week_over_week},
            location=self._location,
            secrets=self._secrets,
        )
        self._last_check = {k: v for k, v in self._last_check.items() if k in self._targets}
        self._store.history.forget_except(j.display_name for j in owned)
        now = self._clock()
        for key in [key for key in self._store.alerts if key not in self._targets]:
            state = self._store.alerts.pop(key)
            if key in configured:
                self._hand_over(key, state, now)
            elif state.status is AlertStatus.FIRING:
                self._resolve_orphan(state, now)
        for key, target in old.items():
            kept = self._targets.get(key)
            if kept is None or kept.rule.severity != target.rule.severity:
                self._forget_firing_gauge(target)
        for key, target in self._targets.items():
            kept_state = self._store.alerts.get(key)
            firing = kept_state is not None and kept_state.status is AlertStatus.FIRING
            self._set_firing_gauge(target, firing)
        self._refreshed = {k: v for k, v in self._refreshed.items() if k[0] in self._targets}
        self._store.save()

    def _resolve_orphan(self, state: AlertState, now: float) -> None:
        """A firing alert with no rule left to judge it: tell its channels it is over."""
        if state.announced is None:
            return
        fired = Notification.from_dict(state.announced)
        ended = max(now, fired.starts_at.timestamp())
        notification = dataclasses.replace(
            fired,
            key=f"{fired.alert_id}/{state.episode}/resolved",
            status=NotificationStatus.RESOLVED,
            ends_at=_utc(ended),
            reminder=False,
            summary=f"{fired.journey}: alert {fired.rule} ended because its rule or journey "
            "was removed from the config.",
            description="The journey is no longer judged by this rule; this is not a recovery.",
        )
        log.warning("ALERT %s: %s", notification.title, notification.summary)
        self._enqueue(notification, state.told, now)

    def _hand_over(self, key: str, state: AlertState, now: float) -> None:
        """A journey another shard owns now: forget its alert here, and what still waits to
        be sent about it; channels that heard it fire hear that it was handed over."""
        dropped = self._store.discard(f"checkout-monitor/{self._location}/{key}")
        if state.announced is not None:
            dropped += self._store.discard(Notification.from_dict(state.announced).alert_id)
        # a channel still owed the end of an episode gets the handover as its end instead
        resolved = NotificationStatus.RESOLVED
        owed = {lane_channel(e.channel) for e in dropped if e.notification.status is resolved}
        if state.status is AlertStatus.FIRING:
            owed.update(state.told)
        if state.announced is None:
            return
        fired = Notification.from_dict(state.announced)
        # a channel none of whose receivers ever got the "firing" has nothing to end
        unsent = {e.channel for e in dropped if e.notification.key == fired.key}
        owed = {name for name in owed if not set(self._lanes_of(name)) <= unsent}
        # Alertmanager knows the alert by its labels, which the new owner posts too: the
        # alert goes on if the new owner finds the journey failing, and expires by itself
        # (4 resend intervals) if not. A "resolved" from here could end the new owner's
        # live alert if it fired first (a rolling update restarts shard 0 last).
        owed = {name for name in owed if not self._identifies_alerts(name)}
        if not owed:
            return
        notification = dataclasses.replace(
            fired,
            key=f"{fired.alert_id}/{state.episode}/handed-over",
            status=NotificationStatus.RESOLVED,
            ends_at=_utc(max(now, fired.starts_at.timestamp())),
            reminder=False,
            summary=f"{fired.journey}: alert {fired.rule} handed over to another shard of the "
            "fleet, which runs the journey now; its new owner alerts again if it still fails.",
            description="The agents' shard count changed and this agent no longer runs the "
            "journey; this is not a recovery.",
        )
        log.warning("ALERT %s: %s", notification.title, notification.summary)
        self._enqueue(notification, sorted(owed), now)

    def _identifies_alerts(self, channel: str) -> bool:
        config = self._channels.get(channel)
        return config is not None and config.alertmanager is not None

    def _lanes_of(self, channel: str) -> list[str]:
        config = self._channels.get(channel)
        return lane_names(channel, config) if config is not None else []

    def _enqueue(self, notification: Notification, channels: Iterable[str], now: float) -> None:
        resolved = notification.status is NotificationStatus.RESOLVED
        for name in channels:
            config = self._channels.get(name)
            if config is None:
                log.warning(
                    "alert %s cannot go to channel %r: the config no longer has it",
                    notification.title,
                    name,
                )
                continue
            if resolved and not config.send_resolved:
                continue
            for lane in lane_names(name, config):
                self.queued |= self._store.enqueue(lane, notification, now)

    # --- inputs ------------------------------------------------------------------------------

    def observe(self, result: JourneyResult) -> None:
        record = RunRecord.from_result(result, self._secrets, self._latency_steps)
        self._store.history.add(result.name, record)
        now = self._clock()
        for target in self._targets.values():
            if target.journey.display_name == result.name:
                if target.week_over_week:
                    self._week_over_week.observed(target.key, record.finished_at)
                self._evaluate(target, now)
        self._store.save()
        self._store.save_history()

    def tick(self) -> None:
        if self._monotonic() - self._last_tick < _TICK_EVERY:
            return
        self._last_tick = self._monotonic()
        now = self._clock()
        changed = False
        for target in self._targets.values():
            changed |= self._evaluate(target, now)
            changed |= self._refresh_alertmanager(target, now)
        if changed:
            self._store.save()

    # --- evaluation --------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the week-over-week reader thread; it may be reading: call it off the loop."""
        self._week_over_week.close()

    def _evaluate(self, target: AlertTarget, now: float) -> bool:
        name = target.journey.display_name
        if target.week_over_week:  # last week is in the run history, read off the loop
            m = self._week_over_week.measurement(target.key, target.rule, name, now)
        else:
            runs = self._store.history.runs(name)
            m = measure(target.rule, runs, now, others_pass=target.monitor_health)
        self._last_check[target.key] = m.text
        state = self._store.alerts.setdefault(target.key, AlertState(since=now))
        before = (state.status, state.measurement)
        transition = state.advance(m, now, dataclasses.replace(self._timing, for_=target.rule.for_))
        if transition is not None:
            self._notify(target, state, transition, now)
        return transition is not None or before != (state.status, state.measurement)

    def _refresh_alertmanager(self, target: AlertTarget, now: float) -> bool:
        """Firing alerts are re-posted to Alertmanager, which forgets them otherwise."""
        state = self._store.alerts.get(target.key)
        if state is None or state.status is not AlertStatus.FIRING:
            return False
        queued = False
        for name in state.told:
            config = self._channels.get(name)
            if config is None or config.alertmanager is None:
                continue
            last = self._refreshed.get((target.key, name), state.last_notified or now)
            if 0 <= now - last < config.alertmanager.resend_interval:
                continue  # (a clock set back makes it due at once, not in an hour)
            self._refreshed[(target.key, name)] = now
            note = self._notification(target, state, Transition.REMINDER, now)
            refresh = dataclasses.replace(note, key=f"{note.key}/refresh-{int(now)}")
            for lane in lane_names(name, config):  # each member of an HA cluster on its own
                if self._store.has_pending(lane, self._alert_id(target)):
                    continue  # still trying to deliver the last one: that will do
                queued |= self._store.enqueue(lane, refresh, now)
        self.queued |= queued
        return queued

    # --- notifications -----------------------------------------------------------------------

    def _notify(
        self,
        target: AlertTarget,
        state: AlertState,
        transition: Transition,
        now: float,
    ) -> None:
        notification = self._notification(target, state, transition, now)
        self._metrics.alert_transitions.labels(
            target.rule.name, transition.value, self._location
        ).inc()
        self._set_firing_gauge(target, state.status is AlertStatus.FIRING)
        log.warning("ALERT %s: %s", notification.title, notification.summary)
        if transition is Transition.FIRING:
            state.told = [name for name in target.channels if name in self._channels]
            state.announced = notification.to_dict()
        self._enqueue(notification, state.told, now)
        for name in state.told:
            self._refreshed[(target.key, name)] = now

    def _alert_id(self, target: AlertTarget) -> str:
        return f"checkout-monitor/{self._location}/{target.key}"

    def _notification(
        self,
        target: AlertTarget,
        state: AlertState,
        transition: Transition,
        now: float,
    ) -> Notification:
        journey, rule = target.journey, target.rule
        name = journey.display_name
        resolved = transition is Transition.RESOLVED
        suffix = transition.value
        if transition is Transition.REMINDER:
            suffix = f"reminder-{state.reminders}"
        labels = {
            **rule.labels,
            "alertname": rule.name,
            "journey": name,
            "location": self._location,
            "severity": rule.severity.value,
            "storefront": journey.storefront,
            # routes the monitor's own problems away from the shop's on-call
            "class": (FailureClass.MONITOR if target.monitor_health else FailureClass.SITE).value,
        }
        return Notification(
            key=f"{self._alert_id(target)}/{state.episode}/{suffix}",
            alert_id=self._alert_id(target),
            status=NotificationStatus.RESOLVED if resolved else NotificationStatus.FIRING,
            rule=rule.name,
            journey=name,
            location=self._location,
            severity=rule.severity.value,
            summary=self._summary(target, state, resolved, now),
            description="\n".join(self._description(target, resolved)),
            starts_at=_utc(state.fired_at or now),
            ends_at=_utc(max(state.resolved_at or now, state.fired_at or now))
            if resolved
            else None,
            reminder=transition is Transition.REMINDER,
            owner=self._redacted(journey.owner),
            runbook=self._redacted(journey.runbook),
            generator_url=self._generator_url,
            labels=labels,
        )

    def _summary(self, target: AlertTarget, state: AlertState, resolved: bool, now: float) -> str:
        name = target.journey.display_name
        if resolved:
            lasted = format_duration(now - (state.fired_at or now))
            return f"{name} has recovered after {lasted}: {state.measurement}."
        if target.week_over_week:  # the measurement names the journey and both weeks
            return f"{state.measurement}."
        failed = self._last_failure(target)
        where = (
            f"; the last failure was at step {failed.step!r} ({failed.failure_kind})"
            if (failed and failed.step)
            else ""
        )
        success = self._store.history.last_success(name)
        since = (
            f"last passed {human_time(_utc(success))}" if success else "no passing run on record"
        )
        what = "The monitor itself is failing" if target.monitor_health else f"{name} is failing"
        subject = f" for {name}" if target.monitor_health else ""
        return f"{what}{subject}: {state.measurement}{where}; {since}."

    def _description(self, target: AlertTarget, resolved: bool) -> Iterator[str]:
        failed = self._last_failure(target)
        if not resolved and failed is not None:
            if failed.message:
                yield f"What it saw: {failed.message}"
            kind = _kind(failed.failure_kind)
            if kind is not None:
                yield f"What to do: {kind.advice}"
        if target.monitor_health and not resolved:
            yield "This is the monitor's own problem, not the shop's; the shop may be fine."
        owner = self._redacted(target.journey.owner)
        yield f"Owner: {owner or 'not set (add owner: to the journey)'}"
        if target.journey.runbook:
            yield f"Runbook: {self._redacted(target.journey.runbook)}"
        yield f"Rule: {target.rule.name} ({target.rule.condition.value} {target.rule.threshold:g})"

    def _redacted(self, text: str | None) -> str | None:
        """An owner or runbook URL may hold a ``${ENV}`` secret (a token in a query string);
        the placeholder has no angle brackets, so a Slack link or a JSON body stays whole."""
        return None if text is None else redact(text, self._secrets, MARKUP_SAFE)

    def _last_failure(self, target: AlertTarget) -> RunRecord | None:
        classes = {c.value for c in target.rule.classes}
        runs = self._store.history.runs(target.journey.display_name)
        return next((r for r in reversed(runs) if not r.ok and r.failure_class in classes), None)

    def _set_firing_gauge(self, target: AlertTarget, firing: bool) -> None:
        self._metrics.alert_firing.labels(*self._gauge_labels(target)).set(1 if firing else 0)

    def _forget_firing_gauge(self, target: AlertTarget) -> None:
        with contextlib.suppress(KeyError):  # never set
            self._metrics.alert_firing.remove(*self._gauge_labels(target))

    def _gauge_labels(self, target: AlertTarget) -> tuple[str, str, str, str]:
        return (
            target.rule.name,
            target.journey.display_name,
            target.rule.severity.value,
            self._location,
        )

    # --- for people and /alerts -------------------------------------------------------------

    def snapshot(self) -> list[dict[str, Any]]:
        out = []
        for key, target in sorted(self._targets.items()):
            state = self._store.alerts.get(key) or AlertState()
            out.append(
                {
                    "rule": target.rule.name,
                    "journey": target.journey.display_name,
                    "severity": target.rule.severity.value,
                    "status": state.status.value,
                    "since": _utc(state.since).isoformat() if state.since else None,
                    "measurement": state.measurement,
                    # the latest look, also when it gave no verdict (too few runs, no history)
                    "last_check": self._last_check.get(key, ""),
                    "channels": list(target.channels),
                }
            )
        return out


def _kind(value: str | None) -> FailureKind | None:
    try:
        return FailureKind(value) if value is not None else None
    except ValueError:  # a kind from an older version's state file
        return None
