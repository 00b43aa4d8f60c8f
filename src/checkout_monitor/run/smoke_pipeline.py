"""One ``run-smoke`` from a loaded config: plan, run, report, triage, push; nothing printed
here that a reporter does not print."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from checkout_monitor.browser.early_start import EarlyPlaywright
from checkout_monitor.browser.launch import takes_early_browser
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.errors import UsageError
from checkout_monitor.evidence.artifacts import ArtifactStore
from checkout_monitor.evidence.last_passed import LastPassed
from checkout_monitor.evidence.redaction import EvidenceRedactor, scrub_results
from checkout_monitor.reports.console import ConsoleReporter, Verbosity
from checkout_monitor.reports.reporter import Reporter
from checkout_monitor.reports.run_info import RunInfo
from checkout_monitor.reports.writers import write_reports
from checkout_monitor.results import JourneyResult
from checkout_monitor.run.monitors_loader import load_monitors
from checkout_monitor.run.plan import PlannedJourney, plan_journeys
from checkout_monitor.run.smoke import run_smoke
from checkout_monitor.text.durations import format_duration


@dataclass(frozen=True)
class SmokeOptions:
    """What the person asked for, in the run's words rather than the command line's."""

    monitors_dir: Path
    journeys: Sequence[str] = ()
    tags: Sequence[str] = ()
    retries: int | None = None
    step_timeout: float | None = None
    quiet: bool = False
    triage: bool = False
    release: str | None = None
    reports: Mapping[str, Path | None] = field(default_factory=dict)  # option -> path
    history: Path | None = None  # --history: the run-history database to record into
    pushgateway: str | None = None
    push_instance: str = ""


@dataclass(frozen=True)
class SmokeOutcome:
    results: Sequence[JourneyResult]
    problems: Sequence[str]  # reports, checklists or pushes that failed; the run did not

    @property
    def passed(self) -> bool:
        return all(r.ok for r in self.results)


def plan(loaded: LoadedConfig, options: SmokeOptions) -> list[PlannedJourney]:
    """The journeys the options select, with the run's overrides applied to the config."""
    registry = load_monitors(options.monitors_dir)
    loaded.step_timeout_override = options.step_timeout
    loaded.retries_override = options.retries
    return plan_journeys(loaded, registry, list(options.journeys), list(options.tags))


def describe(planned: Sequence[PlannedJourney]) -> str:
    """``run-smoke --list``: each journey with its owner, interval, retries and tags."""
    return "\n".join(
        f"{journey.name}  ({journey.definition.name} on {journey.storefront})\n"
        f"    owner: {journey.config.owner or 'not set'}\n"
        f"    every {format_duration(journey.interval)} under serve; "
        f"retries {journey.retries}; tags: {', '.join(journey.config.tags) or 'none'}"
        + (f"\n    runbook: {journey.config.runbook}" if journey.config.runbook else "")
        for journey in planned
    )


def smoke(
    loaded: LoadedConfig,
    header: str,
    planned: Sequence[PlannedJourney],
    options: SmokeOptions,
    out: TextIO,
    driver: EarlyPlaywright,
) -> SmokeOutcome:
    """Run ``planned`` once, the console reporting to ``out``, then write what was asked."""
    started_at = datetime.now(UTC)
    wall_start = time.perf_counter()
    # what the shop shows can hold a secret or a card number: scrubbed wherever it goes
    scrub = EvidenceRedactor.for_profiles(loaded.config.storefronts.values(), loaded.secrets)
    artifacts = ArtifactStore.from_config(loaded)
    last_passed = LastPassed(artifacts.root)
    reporter = ConsoleReporter(
        out,
        verbosity=Verbosity.QUIET if options.quiet else Verbosity.NORMAL,
        last_passed=last_passed.load(),
        scrub=scrub.text,
        artifacts_root=artifacts.root,
    )
    reporter.run_started(header)
    results = driver.run(
        lambda playwright, ready: run_smoke(
            loaded.config, planned, reporter, artifacts, playwright=playwright, ready=ready
        ),
        take_browser=takes_early_browser(loaded.config.browser),
    )
    wall = time.perf_counter() - wall_start
    reporter.run_finished(results, wall)
    last_passed.record(results)
    info = RunInfo(
        started_at,
        wall,
        options.release,
        loaded.config.location,
        header,
        artifacts.root,
        loaded.secrets,
    )
    shown = scrub_results(results, scrub.text)
    problems = write_reports(options.reports, shown, info, reporter)
    if options.triage:
        from checkout_monitor.reports.triage import write_checklist  # noqa: PLC0415

        problems += write_checklist(shown, info, reporter)
    if options.history is not None:
        problems += _record_history(loaded, options, shown, reporter)
    if options.pushgateway:
        problems += _push(options, shown, loaded.config.location, reporter)
    return SmokeOutcome(results, problems)


def _record_history(
    loaded: LoadedConfig,
    options: SmokeOptions,
    results: Sequence[JourneyResult],
    reporter: Reporter,
) -> list[str]:
    """A history that cannot be written is a problem line (exit 2 if the journeys passed),
    like a report that cannot be written; the verdict stays the shop's."""
    from checkout_monitor.history.recorder import HistoryRecorder  # noqa: PLC0415

    assert options.history is not None
    recorder = HistoryRecorder.from_config(
        loaded,
        source="run-smoke",
        path=options.history,
        release=options.release,
        log_problems=False,  # said once below, as a problem line
    )
    problems: list[str] = []
    try:
        for result in results:
            if not recorder.record(result) and recorder.problem not in problems:
                problems.append(recorder.problem or "")
    finally:
        recorder.close()
    if not problems:
        reporter.note(f"{len(results)} run(s) recorded in the run history {options.history}")
    return problems


def _push(
    options: SmokeOptions, results: Sequence[JourneyResult], location: str, reporter: Reporter
) -> list[str]:
    # only --pushgateway pays for prometheus_client's push machinery
    from checkout_monitor.metrics.pushgateway import push_results  # noqa: PLC0415

    assert options.pushgateway is not None
    try:
        key = push_results(
            options.pushgateway, results, location, options.push_instance, options.release
        )
    except UsageError as exc:
        return [str(exc)]
    pushed_as = ", ".join(f"{k}={v}" for k, v in key.items())
    reporter.note(f"pushed to {options.pushgateway} as {pushed_as}")
    return []
