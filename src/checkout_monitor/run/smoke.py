"""One smoke run: launch one browser, run the planned journeys one after another, report.

The Playwright driver is passed in, started early (``browser/early_start.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from playwright.async_api import Playwright, async_playwright

from checkout_monitor.browser.chromium import ReadyBrowser
from checkout_monitor.browser.launch import ContextFactory, launch_or_take
from checkout_monitor.config.model import Config
from checkout_monitor.evidence.artifacts import ArtifactStore
from checkout_monitor.reports.reporter import Reporter
from checkout_monitor.results import JourneyResult
from checkout_monitor.run.attempts import run_with_retries
from checkout_monitor.run.plan import PlannedJourney
from checkout_monitor.run.runner import JourneyRunner


async def run_smoke(
    config: Config,
    planned: Sequence[PlannedJourney],
    reporter: Reporter,
    artifacts: ArtifactStore | None = None,
    *,
    playwright: Playwright | None = None,
    ready: ReadyBrowser | None = None,
) -> list[JourneyResult]:
    """``artifacts``: where failed attempts leave evidence, one run folder for this run;
    ``playwright``: a driver already started, else one is started for this run; ``ready``:
    a Chromium it started with default settings, used if the config changes none."""
    if playwright is None:
        async with async_playwright() as own:
            return await run_smoke(config, planned, reporter, artifacts, playwright=own)
    results: list[JourneyResult] = []
    run_folder = artifacts.start_run() if artifacts is not None else None
    browser, user_agent = await launch_or_take(playwright, config.browser, ready)
    try:
        runner = JourneyRunner(
            ContextFactory(browser, config.browser, config.synthetic, user_agent),
            config.location,
            on_step=lambda _journey, step: reporter.step_finished(step),
            artifacts=run_folder,
        )
        for journey in planned:
            reporter.journey_started(journey.name, journey.storefront)
            result = await run_with_retries(
                runner,
                journey,
                config.artifacts.traces,
                reporter.attempt_failed,
                secrets=artifacts.secrets if artifacts is not None else (),
            )
            reporter.journey_finished(result)
            results.append(result)
    finally:
        await browser.close()
        if run_folder is not None:
            run_folder.finish()
    return results
