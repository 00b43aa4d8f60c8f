"""Deliver the outbox: one worker per lane, in order, retried with backoff until taken.

A lane is a channel, or one Alertmanager of an alertmanager channel's ``urls`` (``lanes.py``);
logs name a member by its place in ``urls``, as metrics do.
A receiver that is down holds up only its own lane. Retries use tenacity (exponential
backoff with jitter, capped); a notification is dropped only when the receiver rejects
the request itself, or after ``give_up_after``, and then it is logged, counted and kept in
the state file's dead letters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    wait_exponential_jitter,
)

from checkout_monitor.alerting.alert_store import AlertStore, OutboxEntry
from checkout_monitor.alerting.channels.base import Channel, DeliveryError
from checkout_monitor.alerting.channels.message_text import from_timestamp
from checkout_monitor.alerting.lanes import lane_channel
from checkout_monitor.config.alerting import DeliveryConfig
from checkout_monitor.evidence.redaction import redact
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.text.durations import format_duration

log = logging.getLogger("checkout_monitor.alerting.dispatcher")  # the name logs and filters know
_IDLE_SECONDS = 1.0


class _Stopping(Exception):
    """Raised from a backoff sleep when the agent stops: the entry stays in the outbox."""


RESULTS = ("delivered", "failed", "rejected", "gave_up")


class _Retired(Exception):
    """Raised from a backoff sleep when this worker's channel was replaced by a reload."""


class _Superseded(Exception):
    """Raised before an attempt when a newer notification of the alert waits behind it, for
    a receiver that keeps only each alert's latest state (``Channel.keeps_state``)."""


class Dispatcher:
    def __init__(
        self,
        store: AlertStore,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._clock = clock
        self._lanes: dict[str, Channel] = {}
        self._delivery = DeliveryConfig()
        self._secrets: frozenset[str] = frozenset()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._stopping = asyncio.Event()

    def configure(
        self, lanes: Mapping[str, Channel], delivery: DeliveryConfig, secrets: Iterable[str]
    ) -> None:
        """Use these senders, by lane, from now on. A changed lane's worker finishes the send
        it is in (never cancelled half way, which could deliver it twice) before the new one
        starts."""
        self._delivery = delivery
        self._secrets = frozenset(secrets)
        self._forget_outbox_gauges(gone=self._lanes.values(), kept=lanes.values())
        self._lanes = dict(lanes)
        for name in sorted({lane_channel(n) for n in self._store.channels_waiting() - set(lanes)}):
            log.warning(
                "notifications wait in the outbox for channel %r, which the config no longer "
                "has; they stay there until it comes back",
                name,
            )
        if self._stopping.is_set():
            return
        for lane, channel in self._lanes.items():
            for result in RESULTS:  # every series from the start, so increase() sees the first
                self._metrics.alert_deliveries.labels(
                    channel.name, channel.member, result, self._metrics.location
                )
            previous = self._tasks.get(lane)
            if previous is None or previous.done() or previous.get_name() != _task_name(channel):
                self._wake.setdefault(lane, asyncio.Event())
                self._tasks[lane] = asyncio.create_task(
                    self._work(lane, channel, previous), name=_task_name(channel)
                )
        for lane in [n for n in self._tasks if n not in self._lanes]:
            self._tasks.pop(lane)  # it sees its lane is gone and ends by itself
        self.kick()

    def _forget_outbox_gauges(self, gone: Iterable[Channel], kept: Iterable[Channel]) -> None:
        """A lane that is gone has no worker to update its outbox gauge: remove the series,
        or its last value stays (and CheckoutAlertsUndelivered fires) until a restart."""
        still = {(c.name, c.member) for c in kept}
        for channel in gone:
            if (channel.name, channel.member) not in still:
                with contextlib.suppress(KeyError):  # never set
                    self._metrics.alert_outbox.remove(
                        channel.name, channel.member, self._metrics.location
                    )

    def kick(self) -> None:
        """Something was queued: wake the workers now rather than at their next look."""
        for event in self._wake.values():
            event.set()

    async def stop(self) -> None:
        self._stopping.set()
        self.kick()
        tasks = list(self._tasks.values())
        self._tasks.clear()
        if tasks:
            await asyncio.wait(tasks, timeout=10)
            for task in tasks:
                task.cancel()

    async def _work(self, lane: str, channel: Channel, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # the old worker ends after its current send
        wake = self._wake[lane]
        waiting = self._metrics.alert_outbox.labels(
            channel.name, channel.member, self._metrics.location
        )
        while not self._stopping.is_set() and self._lanes.get(lane) is channel:
            entry = next(self._store.pending(lane), None)
            waiting.set(self._store.count_pending(lane))
            if entry is None:
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), _IDLE_SECONDS)
                continue
            try:
                await self._deliver(lane, channel, entry)
            except (_Stopping, _Retired):
                return

    async def _deliver(self, lane: str, channel: Channel, entry: OutboxEntry) -> None:
        async def attempt() -> None:
            if channel.keeps_state and self._store.superseded(entry):
                raise _Superseded
            try:  # "now" per attempt: a late firing alert must not arrive already expired
                await channel.send(entry.notification, from_timestamp(self._clock()))
            except DeliveryError:
                raise
            except Exception as exc:  # a bug: retrying would only repeat it
                log.exception("delivering to %s failed because of a bug", shown(channel))
                raise DeliveryError(
                    f"internal error {type(exc).__name__}", transient=False
                ) from None

        async def sleep(seconds: float) -> None:
            """Back off, but give way at once to a reloaded channel or a stopping agent."""
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                await self._sleep(min(left, _IDLE_SECONDS))
                if self._lanes.get(lane) is not channel:
                    raise _Retired

        retrying = AsyncRetrying(
            wait=wait_exponential_jitter(
                multiplier=self._delivery.initial_backoff,
                max=self._delivery.max_backoff,
                jitter=self._delivery.initial_backoff,
            ),
            retry=retry_if_exception(lambda e: isinstance(e, DeliveryError) and e.transient),
            stop=lambda _state: self._clock() - entry.created_at >= self._delivery.give_up_after,
            sleep=sleep,
            before_sleep=lambda state: self._failed_attempt(lane, channel, entry, state),
            reraise=True,
        )
        try:
            await retrying(attempt)
        except DeliveryError as exc:
            self._given_up(lane, channel, entry, exc)
            return
        except _Superseded:
            self._store.done(entry)
            self._store.save()
            log.info(
                "alert %s not sent to %s: a newer notification of the same alert waits",
                entry.notification.title,
                shown(channel),
            )
            return
        self._store.done(entry)
        self._store.save()
        self._count(channel, "delivered")
        log.info(
            "alert %s delivered to %s after %d failed attempt(s)",
            entry.notification.title,
            shown(channel),
            entry.attempts,
        )

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        if self._stopping.is_set():
            raise _Stopping

    def _failed_attempt(
        self, lane: str, channel: Channel, entry: OutboxEntry, state: RetryCallState
    ) -> None:
        error = state.outcome.exception() if state.outcome else None
        entry.attempts += 1
        entry.last_error = redact(str(error), self._secrets)
        self._store.save()  # the attempt count survives a restart
        self._count(channel, "failed")
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "alert %s not delivered to %s (attempt %d): %s; trying again in %s",
            entry.notification.title,
            shown(channel),
            entry.attempts,
            entry.last_error,
            format_duration(wait),
        )

    def _given_up(
        self, lane: str, channel: Channel, entry: OutboxEntry, exc: DeliveryError
    ) -> None:
        reason = redact(str(exc), self._secrets)
        why = "gave up after trying for too long" if exc.transient else "it was refused"
        self._store.give_up(entry, reason)
        self._store.save()
        self._count(channel, "gave_up" if exc.transient else "rejected")
        log.error(
            "alert %s NOT delivered to %s: %s (%s); it is kept under dead_letters in %s",
            entry.notification.title,
            shown(channel),
            reason,
            why,
            self._store.path,
        )

    def _count(self, channel: Channel, result: str) -> None:
        self._metrics.alert_deliveries.labels(
            channel.name, channel.member, result, self._metrics.location
        ).inc()


def shown(channel: Channel) -> str:
    """A lane as logs name it: ``pager``, or ``pager[1]`` for the second of its ``urls`` (the
    state file names members by a hash of their URL, which tells a person nothing)."""
    return f"{channel.name}[{channel.member}]" if channel.member else channel.name


def _task_name(channel: Channel) -> str:
    """One worker per sender object: a reload that rebuilds the channel gets a new one."""
    return f"alerts-{channel.name}-{id(channel)}"
