"""run-smoke starts the driver and a default Chromium before the config is read: the run
takes that browser only when the config asks for nothing else, and a run that never
starts (a bad config) leaves no process behind."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from playwright.async_api import Playwright

from checkout_monitor.browser.chromium import ReadyBrowser
from checkout_monitor.browser.early_start import EarlyPlaywright
from checkout_monitor.browser.launch import launch_or_take, takes_early_browser
from checkout_monitor.browser.process_stats import chromium_roots, read_tree
from checkout_monitor.config.model import BrowserConfig

pytestmark = pytest.mark.browser


def _children() -> set[int]:
    return set(read_tree(os.getpid())) - {os.getpid()}


def _wait_for_no_children(before: set[int], seconds: float = 10) -> set[int]:
    deadline = time.monotonic() + seconds
    while (left := _children() - before) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_the_default_browser_is_taken_when_the_config_changes_nothing() -> None:
    async def main(playwright: Playwright, ready: ReadyBrowser | None) -> bool:
        assert ready is not None and ready.browser.is_connected()
        assert "Chrome/" in ready.user_agent  # read while the config loaded, not per run
        # what pages send: read over the DevTools protocol, it must be the same string
        page = await ready.browser.new_page()
        assert ready.user_agent == await page.evaluate("() => navigator.userAgent")
        await page.close()
        taken, user_agent = await launch_or_take(playwright, BrowserConfig(), ready)
        return taken is ready.browser and user_agent == ready.user_agent

    with EarlyPlaywright() as early:
        assert early.run(main)


def test_a_config_with_its_own_browser_settings_gets_a_browser_launched_with_them() -> None:
    async def main(playwright: Playwright, ready: ReadyBrowser | None) -> tuple[bool, bool]:
        config = BrowserConfig(extra_args=["--lang=de-DE"])
        taken, user_agent = await launch_or_take(playwright, config, ready)
        try:
            assert ready is not None
            assert user_agent is None  # this browser's is read when its first context opens
            return taken is ready.browser, ready.browser.is_connected()
        finally:
            await taken.close()

    with EarlyPlaywright() as early:
        same, early_still_open = early.run(main)
    assert not same
    assert not early_still_open  # the unused default Chromium was closed, not left running


def test_a_run_that_never_starts_leaves_no_driver_or_browser_behind() -> None:
    before = _children()
    with EarlyPlaywright():
        time.sleep(0.5)  # the config fails to load meanwhile; the driver is mid-start
    assert _wait_for_no_children(before) == set()


def test_a_config_with_a_remote_browser_gets_no_default_chromium_and_it_is_closed() -> None:
    remote = BrowserConfig.model_validate(
        {"remote": {"protocol": "playwright", "url": "ws://127.0.0.1:9/"}}
    )

    async def main(playwright: Playwright, ready: ReadyBrowser | None) -> tuple[bool, bool]:
        # the run starts at once, not after the default Chromium, which it never uses
        seen = gone = False
        deadline = time.monotonic() + 30
        while not gone and time.monotonic() < deadline:
            running = bool(chromium_roots(read_tree(os.getpid()), os.getpid()))
            seen = seen or running
            gone = seen and not running
            await asyncio.sleep(0.05)
        return ready is None, gone

    with EarlyPlaywright() as early:
        given_none, closed = early.run(main, take_browser=takes_early_browser(remote))
    assert given_none
    assert closed  # closed as soon as it had started, not left running beside the remote one
