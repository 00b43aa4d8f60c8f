"""Prometheus metrics from ``JourneyResult``s, on a registry that is passed in.

Named the way blackbox_exporter users expect: base units, a 0/1 success gauge, and bounded
labels only (journey, step, failure kind and class, check, location): never a URL, an
order number or a message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from checkout_monitor import __version__
from checkout_monitor.browser.process_stats import ProcessTotals
from checkout_monitor.evidence.artifacts import WRITE_ERROR_REASONS
from checkout_monitor.failure_kinds import FailureClass
from checkout_monitor.history.reasons import WRITE_ERROR_REASONS as HISTORY_ERROR_REASONS
from checkout_monitor.metrics.process_collector import AgentProcessCollector
from checkout_monitor.results import JourneyResult, StepStatus

JOURNEY_BUCKETS = (0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)
STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """Every series the agent and ``run-smoke --pushgateway`` export."""

    def __init__(self, registry: CollectorRegistry, location: str) -> None:
        self.location = location
        loc = ["location"]
        self.runs = Counter(
            "checkout_journey_runs",
            "Journey runs by result: success, failure, or skipped (every step was skipped, "
            "so nothing was checked: neither a success nor a failure).",
            ["journey", "result", *loc],
            registry=registry,
        )
        self.success = Gauge(
            "checkout_journey_success",
            "1 if the journey's last checked run passed, else 0; a skipped run leaves it as is.",
            ["journey", *loc],
            registry=registry,
        )
        self.last_success = Gauge(
            "checkout_journey_last_success_timestamp_seconds",
            "When the journey last passed (Unix time).",
            ["journey", *loc],
            registry=registry,
        )
        self.last_run = Gauge(
            "checkout_journey_last_run_timestamp_seconds",
            "When the journey last ran (Unix time).",
            ["journey", *loc],
            registry=registry,
        )
        self.duration = Histogram(
            "checkout_journey_duration_seconds",
            "How long a journey run took.",
            ["journey", *loc],
            buckets=JOURNEY_BUCKETS,
            registry=registry,
        )
        self.journey_failures = Counter(
            "checkout_journey_failures",
            "Failed journey runs by failure kind and class.",
            ["journey", "kind", "class", *loc],
            registry=registry,
        )
        self.step_duration = Histogram(
            "checkout_step_duration_seconds",
            "How long a step took.",
            ["journey", "step", *loc],
            buckets=STEP_BUCKETS,
            registry=registry,
        )
        self.step_failures = Counter(
            "checkout_step_failures",
            "Failed steps by failure kind and class.",
            ["journey", "step", "kind", "class", *loc],
            registry=registry,
        )
        self.checks = Counter(
            "checkout_checks",
            "Outcomes of the discount, payment and checkout-token checks.",
            ["journey", "check", "result", *loc],
            registry=registry,
        )
        self.images_checked = Counter(
            "checkout_images_checked",
            "Product images checked.",
            ["journey", *loc],
            registry=registry,
        )
        self.images_broken = Counter(
            "checkout_images_broken",
            "Product images found broken.",
            ["journey", *loc],
            registry=registry,
        )
        self.requests_blocked = Counter(
            "checkout_requests_blocked",
            "Requests the browser blocked because their host is not in the storefront's "
            "allowed_hosts (every attempt): a new vendor to list, or a page pulled elsewhere.",
            ["journey", *loc],
            registry=registry,
        )
        self.attempts = Counter(
            "checkout_journey_attempts",
            "Journey attempts by result (success, failure, skipped), retries included "
            "(runs count each journey once).",
            ["journey", "result", *loc],
            registry=registry,
        )
        self.flaky = Counter(
            "checkout_journey_flaky",
            "Journey runs that passed only on a retry: degradation not to be hidden.",
            ["journey", *loc],
            registry=registry,
        )
        self.consecutive_failures = Gauge(
            "checkout_journey_consecutive_failures",
            "Failed runs in a row that were the shop's fault (site class); 0 after a pass.",
            ["journey", *loc],
            registry=registry,
        )
        self.interval = Gauge(
            "checkout_journey_interval_seconds",
            "How often the journey runs, from its owner and the runner-up shard (each journey "
            "from two agents of a sharded fleet); the dead man's switches compare against it.",
            ["journey", *loc],
            registry=registry,
        )
        self.journey_info = Gauge(
            "checkout_journey_info",
            "Always 1: the storefront the journey watches, for dashboards and alerts to filter "
            "or join on (the other series carry only the journey's name).",
            ["journey", "storefront", *loc],
            registry=registry,
        )
        self._storefronts: dict[str, str] = {}
        # --- sharding (serve only; see docs/fleet.md) --------------------------------------
        self.shard_info = Gauge(
            "checkout_agent_shard_info",
            "Always 1: the shard this agent is (shard of shards; 0 of 1 when not sharded).",
            ["location", "shard", "shards"],
            registry=registry,
        )
        self.journey_owned = Gauge(
            "checkout_journey_owned",
            "Always 1, for each journey this agent's shard runs; its owner and the runner-up "
            "shard export the journey's interval and info.",
            ["journey", "location", "shard"],
            registry=registry,
        )
        self._owned: set[str] = set()
        self._shard = "0"
        # --- end of sharding -----------------------------------------------------------------
        self.alert_firing = Gauge(
            "checkout_alert_firing",
            "1 while the alert rule fires for the journey, else 0.",
            ["rule", "journey", "severity", *loc],
            registry=registry,
        )
        self.alert_transitions = Counter(
            "checkout_alert_transitions",
            "Alert state changes that notify: firing, resolved, reminder.",
            ["rule", "transition", *loc],
            registry=registry,
        )
        self.alert_deliveries = Counter(
            "checkout_alert_deliveries",
            "Delivery attempts by channel and result: delivered, failed (retried), rejected. "
            "member: the Alertmanager's position in the channel's urls, empty for one receiver.",
            ["channel", "member", "result", *loc],
            registry=registry,
        )
        self.alert_outbox = Gauge(
            "checkout_alert_outbox_pending",
            "Notifications waiting in the outbox for their channel (and member, as above).",
            ["channel", "member", *loc],
            registry=registry,
        )
        # --- the agent's own health (serve only: each series shows once the agent sets it) --
        self.registry = registry
        self._watching_process = False
        self.browser_restarts = Counter(
            "checkout_browser_restarts",
            "Times the browser was started again after it crashed or was killed, or (with "
            "browser.remote) connected to again after the connection was lost.",
            loc,
            registry=registry,
        )
        self.browser_connected = Gauge(
            "checkout_browser_connected",
            "1 while the agent holds a live browser (its own Chromium, or the connection to "
            "browser.remote), 0 while it starts one again or reconnects.",
            loc,
            registry=registry,
        )
        self.browser_recycles = Counter(
            "checkout_browser_recycles",
            "Times a fresh browser replaced one that had served browser.recycle_after_runs "
            "runs (reason=runs) or grown past browser.recycle_above_mib (reason=memory).",
            ["reason", *loc],
            registry=registry,
        )
        self.scheduler_lag = Histogram(
            "checkout_agent_scheduler_lag_seconds",
            "How late the scheduler's tick ran, compared with when it was due: a busy or "
            "blocked event loop starts journeys late.",
            loc,
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.scheduler_last_lag = Gauge(
            "checkout_agent_scheduler_last_lag_seconds",
            "How late the scheduler's latest tick ran.",
            loc,
            registry=registry,
        )
        # --- end of the agent's own health ------------------------------------------------
        self.config_reload_success = Gauge(
            "checkout_config_reload_success",
            "1 if the last config (re)load worked, else 0.",
            loc,
            registry=registry,
        )
        self.config_reload_time = Gauge(
            "checkout_config_last_reload_success_timestamp_seconds",
            "When the config last loaded successfully (Unix time).",
            loc,
            registry=registry,
        )
        # --- evidence writes (serve only: the series show once the agent watches them) ---
        self.artifacts_write_errors = Counter(
            "checkout_artifacts_write_errors",
            "Failed attempts whose evidence could not be written, whole or in part, by reason: "
            "disk_full, read_only, permission_denied, other. Monitoring goes on without it.",
            ["reason", *loc],
            registry=registry,
        )
        self.artifacts_writable = Gauge(
            "checkout_artifacts_writable",
            "1 if the latest evidence was written whole, 0 if the artifacts folder refused it.",
            loc,
            registry=registry,
        )
        # --- end of evidence writes -------------------------------------------------------
        # --- the run history (serve only: the series show once the agent records runs) ----
        self.history_write_errors = Counter(
            "checkout_history_write_errors",
            "Journey runs the run history could not record, by reason: corrupt, locked, "
            "disk_full, unwritable, too_new, queue_full, other. Monitoring goes on without it.",
            ["reason", *loc],
            registry=registry,
        )
        self.history_writable = Gauge(
            "checkout_history_writable",
            "1 if the latest journey run was recorded in the run history, else 0.",
            loc,
            registry=registry,
        )
        # --- end of the run history -------------------------------------------------------
        Gauge(
            "checkout_build_info",
            "Always 1; the version of checkout-monitor.",
            ["version", *loc],
            registry=registry,
        ).labels(__version__, location).set(1)

    def observe(self, result: JourneyResult) -> None:
        journey, loc = result.name, self.location
        self.runs.labels(journey, _result_label(result), loc).inc()
        finished = result.started_at.timestamp() + result.duration_seconds
        self.last_run.labels(journey, loc).set(finished)  # it ran: the dead man's switch
        for attempt in result.all_attempts:
            self.attempts.labels(journey, _result_label(attempt), loc).inc()
        if result.skipped:
            # Checked nothing: not a success (the gauge, the last success and the streak stay
            # as they were), and its few milliseconds would only drag the latency down.
            self._observe_counts(result)
            return
        self.success.labels(journey, loc).set(1 if result.ok else 0)
        if result.ok:
            self.last_success.labels(journey, loc).set(finished)
        self.duration.labels(journey, loc).observe(result.duration_seconds)
        failed = result.failed_step
        if failed is not None and failed.failure_kind is not None:
            kind = failed.failure_kind
            self.journey_failures.labels(journey, kind.value, kind.failure_class.value, loc).inc()
        for step in result.steps:
            if step.status is StepStatus.SKIPPED:
                continue
            self.step_duration.labels(journey, step.name, loc).observe(step.duration_seconds)
            if step.failure_kind is not None:
                kind = step.failure_kind
                self.step_failures.labels(
                    journey, step.name, kind.value, kind.failure_class.value, loc
                ).inc()
            if step.check is not None:
                self.checks.labels(journey, step.check, "pass" if step.ok else "fail", loc).inc()
        if result.flaky:
            self.flaky.labels(journey, loc).inc()
        self._count_consecutive(result)
        self._observe_counts(result)

    def _observe_counts(self, result: JourneyResult) -> None:
        journey, loc = result.name, self.location
        self.images_checked.labels(journey, loc).inc(result.counts.get("images_checked", 0))
        self.images_broken.labels(journey, loc).inc(result.counts.get("images_broken", 0))
        blocked = sum(attempt.blocked_count for attempt in result.all_attempts)
        self.requests_blocked.labels(journey, loc).inc(blocked)

    def _count_consecutive(self, result: JourneyResult) -> None:
        gauge = self.consecutive_failures.labels(result.name, self.location)
        if result.ok:
            gauge.set(0)
        elif result.failure_class is FailureClass.SITE:
            gauge.inc()
        # a monitor failure says nothing about the shop: the count stays where it was

    def journey_planned(self, journey: str, interval: float, storefront: str) -> None:
        self.interval.labels(journey, self.location).set(interval)
        before = self._storefronts.get(journey)
        if before is not None and before != storefront:
            # a reload moved the journey: one storefront per journey, never a stale second
            self.journey_info.remove(journey, before, self.location)
        self._storefronts[journey] = storefront
        self.journey_info.labels(journey, storefront, self.location).set(1)

    def journeys_configured(self, configured: dict[str, tuple[float, str]]) -> None:
        """The interval and storefront (name -> both) of the configured journeys this
        agent exports (its own and those it is the runner-up for, see
        ``agent/sharding.exporters``), so Prometheus knows what should run even when a
        journey's owner is down; a journey no longer exported loses both series."""
        for journey in set(self._storefronts) - set(configured):
            with contextlib.suppress(KeyError):
                self.interval.remove(journey, self.location)
            self.journey_info.remove(journey, self._storefronts.pop(journey), self.location)
        for journey, (interval, storefront) in configured.items():
            self.journey_planned(journey, interval, storefront)

    def sharded(self, shard: int, shards: int, owned: Iterable[str]) -> None:
        """The agent's shard, and one ``checkout_journey_owned`` per journey it runs; the
        series of a journey it no longer runs (gone from a reloaded config) are removed."""
        label = str(shard)
        if label != self._shard:  # the shard is fixed per process; this only keeps it honest
            self.shard_info.clear()
            self.journey_owned.clear()
            self._owned.clear()
            self._shard = label
        self.shard_info.labels(self.location, label, str(shards)).set(1)
        now = set(owned)
        for journey in self._owned - now:
            self.journey_owned.remove(journey, self.location, label)
        for journey in now:
            self.journey_owned.labels(journey, self.location, label).set(1)
        self._owned = now

    def config_loaded(self, ok: bool, when: float) -> None:
        self.config_reload_success.labels(self.location).set(1 if ok else 0)
        if ok:
            self.config_reload_time.labels(self.location).set(when)

    def watch_artifacts(self) -> Callable[[bool, str | None], None]:
        """Show the evidence-write series from the start (so ``increase()`` sees the first
        error) and return the listener the artifact store tells after each attempt."""
        for reason in WRITE_ERROR_REASONS:
            self.artifacts_write_errors.labels(reason, self.location)
        self.artifacts_writable.labels(self.location).set(1)

        def written(ok: bool, reason: str | None) -> None:
            self.artifacts_writable.labels(self.location).set(1 if ok else 0)
            if reason is not None:
                self.artifacts_write_errors.labels(reason, self.location).inc()

        return written

    def watch_history(self) -> Callable[[bool, str | None], None]:
        """Show the run-history series from the start and return the listener the history
        recorder tells after each run."""
        for reason in HISTORY_ERROR_REASONS:
            self.history_write_errors.labels(reason, self.location)
        self.history_writable.labels(self.location).set(1)

        def recorded(ok: bool, reason: str | None) -> None:
            self.history_writable.labels(self.location).set(1 if ok else 0)
            if reason is not None:
                self.history_write_errors.labels(reason, self.location).inc()

        return recorded

    def watch_agent_process(self, read: Callable[[], ProcessTotals]) -> None:
        """The agent's own process on /metrics: the standard ``process_*`` series (RSS, open
        file descriptors, CPU) and its Chromium processes and zombies, read at each scrape.
        Only ``serve`` calls this: a run-smoke pushed to a Pushgateway has no process left."""
        if self._watching_process:
            return
        self._watching_process = True
        ProcessCollector(registry=self.registry)
        self.registry.register(AgentProcessCollector(read, self.location))


def _result_label(result: JourneyResult) -> str:
    """The ``result`` label of runs and attempts: three values, so the series stay bounded."""
    if result.skipped:
        return "skipped"
    return "success" if result.ok else "failure"
