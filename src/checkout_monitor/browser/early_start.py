"""The Playwright driver and a Chromium started before the config is read, so they overlap.

Starting the driver (a Node process) and then Chromium takes about a second, as long as
importing, reading and validating the config and planning the journeys. ``run-smoke``
starts both first, on a thread of its own with the default browser settings, and runs the
journeys on that thread's event loop once the plan is ready, so a one-journey run waits for
the slower of the two, not for both. A config with browser settings of its own gets a
Chromium launched with them instead (``launch_or_take``), and one with a remote browser
connects at once, without waiting for the default Chromium, which it closes unused.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

# Imported here, on the caller's thread, before the driver's thread starts: imported on that
# thread it ran beside the command's own imports, and the two shared one interpreter lock, so
# the driver started about 100 ms later.
from playwright.async_api import async_playwright

from checkout_monitor.browser.chromium import (
    ReadyBrowser,
    find_chromium,
    launch_chromium,
    read_user_agent,
)

if TYPE_CHECKING:
    from playwright.async_api import Playwright

T = TypeVar("T")
_CLEANUP_SECONDS = 15.0  # after Ctrl-C: time to close the browser and the driver


async def _start() -> tuple[Playwright, asyncio.Task[ReadyBrowser | None]]:
    """The driver, once up, and the launch of the default Chromium, still going."""
    playwright = await async_playwright().start()
    return playwright, asyncio.ensure_future(_launch_default(playwright))


async def _launch_default(playwright: Playwright) -> ReadyBrowser | None:
    try:
        browser = await launch_chromium(playwright, find_chromium(None))
    except Exception:  # the run launches its own, and says why that fails
        return None
    try:
        return ReadyBrowser(browser, await read_user_agent(browser))
    except Exception:
        await browser.close()
        return None


async def _close_when_started(launch: asyncio.Task[ReadyBrowser | None]) -> None:
    with contextlib.suppress(Exception):
        ready = await launch
        if ready is not None:
            await ready.browser.close()


class EarlyPlaywright:
    """``with EarlyPlaywright() as early: ...; early.run(main)``: the driver starts at once."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="playwright")
        self._thread.daemon = True
        self._thread.start()
        self._driver = asyncio.run_coroutine_threadsafe(_start(), self._loop)
        self._finished = threading.Event()
        self._ran = False

    def run(
        self,
        main: Callable[[Playwright, ReadyBrowser | None], Awaitable[T]],
        *,
        take_browser: bool = True,
    ) -> T:
        """Await ``main(playwright, browser)`` on the driver's loop (``browser``: the one
        started with default settings, None if it could not start); Ctrl-C cancels it and waits for
        its cleanup (the browser closed), as ``asyncio.run`` would. ``take_browser=False``
        (the config wants another browser): ``main`` starts once the driver is up, without
        waiting for the default Chromium, which is closed as soon as it has started."""
        self._ran = True
        future = asyncio.run_coroutine_threadsafe(self._with_driver(main, take_browser), self._loop)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            self._finished.wait(_CLEANUP_SECONDS)
            raise

    async def _with_driver(
        self, main: Callable[[Playwright, ReadyBrowser | None], Awaitable[T]], take_browser: bool
    ) -> T:
        try:
            playwright, launch = await asyncio.wrap_future(self._driver)
            unwanted = None if take_browser else asyncio.ensure_future(_close_when_started(launch))
            try:
                return await main(playwright, await launch if take_browser else None)
            finally:
                if unwanted is not None:
                    await unwanted
                await playwright.stop()
        finally:
            self._finished.set()

    def __enter__(self) -> EarlyPlaywright:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._ran:  # the config or the plan failed: stop the driver nobody used
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._stop_unused(), self._loop).result(
                    _CLEANUP_SECONDS
                )
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_CLEANUP_SECONDS)
        if not self._thread.is_alive():
            self._loop.close()

    async def _stop_unused(self) -> None:
        with contextlib.suppress(Exception):  # (a cancelled start too)
            playwright, launch = await asyncio.wrap_future(self._driver)
            await _close_when_started(launch)
            await playwright.stop()
