"""Whose fault a failed step is when the browser goes away during a run: every step that
failed once it had gone is the monitor's (what it saw kept), a step that failed before stays
the shop's, and a page the shop closed itself, the browser still there, is no lost browser."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from checkout_monitor.browser.launch import ContextFactory, launch_browser
from checkout_monitor.config.demo import demo_config
from checkout_monitor.config.model import BrowserConfig, SyntheticMarking
from checkout_monitor.config.remote_browser import RemoteBrowser, RemoteProtocol
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.results import JourneyResult
from checkout_monitor.run.journey import JourneyDefinition, JourneyRun
from checkout_monitor.run.monitors_loader import default_monitors_dir, load_monitors
from checkout_monitor.run.plan import plan_journeys
from checkout_monitor.run.runner import JourneyRunner
from checkout_monitor.step_failures import CheckFailed

pytestmark = pytest.mark.browser

# The config says remote: the runner words a lost browser as a lost connection to it. The
# browser itself is a local Chromium: what matters is its ``disconnected`` event.
REMOTE = RemoteBrowser(protocol=RemoteProtocol.PLAYWRIGHT, url="ws://browsers.example:3000/")
LOST = "lost the connection to the remote browser"


def run(
    shop: DemoShop, tmp_path: Path, func: Callable[[JourneyRun], Awaitable[None]]
) -> JourneyResult:
    """``func`` as the journey, in a fresh Chromium, on a context factory set up as remote."""
    loaded = demo_config(shop, state_dir=tmp_path)
    (plan,) = plan_journeys(loaded, load_monitors(default_monitors_dir()), ["product-to-checkout"])
    plan = dataclasses.replace(
        plan, step_timeout=5.0, definition=JourneyDefinition("blame", func, "a test journey")
    )

    async def main() -> JourneyResult:
        async with async_playwright() as playwright:
            browser = await launch_browser(playwright, BrowserConfig())
            try:
                contexts = ContextFactory(browser, BrowserConfig(remote=REMOTE), SyntheticMarking())
                return await JourneyRunner(contexts, "test").run(plan)
            finally:
                await browser.close()

    return asyncio.run(main())


def test_a_popup_the_shop_closes_is_no_lost_connection(
    start_shop: Callable[..., DemoShop], tmp_path: Path
) -> None:
    async def journey(run: JourneyRun) -> None:
        async with run.step("pay in the popup"):
            async with run.page.expect_popup() as opened:
                await run.page.evaluate("window.open('about:blank')")
            popup = await opened.value
            async with popup.expect_event("close"):
                await popup.evaluate("setTimeout(() => window.close(), 0)")  # the shop's doing
            await popup.title()

    result = run(start_shop(), tmp_path, journey)
    (step,) = result.failed_steps
    assert step.name == "pay in the popup"
    assert LOST not in step.message


def test_every_step_failed_after_the_browser_went_is_the_monitors(
    start_shop: Callable[..., DemoShop], tmp_path: Path
) -> None:
    async def journey(run: JourneyRun) -> None:
        async with run.step("read the price", soft=True):
            browser = run.page.context.browser
            assert browser is not None
            await browser.close()  # the browser server goes away during this step
            raise CheckFailed(FailureKind.ELEMENT_MISSING, "the price never appeared")
        async with run.step("add to cart"):
            await run.page.title()

    result = run(start_shop(), tmp_path, journey)
    first, second = result.failed_steps
    assert result.failure_kind is FailureKind.BROWSER_CRASH  # the verdict: the monitor's
    assert first.failure_kind is FailureKind.BROWSER_CRASH
    assert first.message.startswith(LOST)
    assert first.message.endswith("; the step saw: the price never appeared")
    assert second.failure_kind is FailureKind.BROWSER_CRASH
    assert second.message.startswith(LOST)


def test_a_shop_failure_just_before_the_browser_went_stays_the_shops(
    start_shop: Callable[..., DemoShop], tmp_path: Path
) -> None:
    async def journey(run: JourneyRun) -> None:
        try:
            async with run.step("apply the discount"):
                raise CheckFailed(FailureKind.DISCOUNT_REJECTED, "the code SAVE10 was refused")
        finally:
            browser = run.page.context.browser
            assert browser is not None
            await browser.close()  # right after, before the run is judged

    result = run(start_shop(), tmp_path, journey)
    (step,) = result.failed_steps
    assert step.failure_kind is FailureKind.DISCOUNT_REJECTED
    assert step.message == "the code SAVE10 was refused"
