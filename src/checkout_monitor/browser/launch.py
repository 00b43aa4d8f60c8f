"""One Chromium at a time, a fresh context per journey, every request marked synthetic."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from playwright.async_api import Browser, BrowserContext, Playwright
from playwright.async_api import Error as PlaywrightError

from checkout_monitor import __version__
from checkout_monitor.browser.chromium import (
    EXECUTABLE_ENV,
    ReadyBrowser,
    find_chromium,
    launch_chromium,
    read_user_agent,
)
from checkout_monitor.browser.host_fence import HostGuard
from checkout_monitor.browser.remote import connect_remote, lost_connection
from checkout_monitor.config.model import BrowserConfig, SyntheticMarking
from checkout_monitor.errors import BrowserUnavailableError
from checkout_monitor.text.quoting import first_line


async def launch_browser(playwright: Playwright, config: BrowserConfig) -> Browser:
    """The browser the config asks for: launched here, or connected to (``browser.remote``)."""
    if config.remote is not None:
        return await connect_remote(playwright, config.remote)
    executable = find_chromium(config.executable)
    try:
        return await launch_chromium(playwright, executable, config.headless, config.extra_args)
    except PlaywrightError as exc:
        where = executable or "Playwright's own Chromium"
        raise BrowserUnavailableError(
            f"could not start the browser ({where}): {first_line(exc.message)}\n"
            "Install Debian's Chromium (apt-get install chromium), set browser.executable or "
            f"${EXECUTABLE_ENV}, or run 'playwright install chromium'."
        ) from None


def takes_early_browser(config: BrowserConfig) -> bool:
    """Whether the Chromium started with default settings before the config was read is
    the one the config asks for: not with settings of its own, nor with a remote browser."""
    return (
        config.remote is None
        and config.executable is None
        and config.headless
        and not config.extra_args
    )


async def launch_or_take(
    playwright: Playwright, config: BrowserConfig, ready: ReadyBrowser | None
) -> tuple[Browser, str | None]:
    """The browser and, when known, its User-Agent. ``ready``: a Chromium started with the
    default settings before the config was read (``browser/early_start.py``); taken when
    the config asks for nothing else."""
    if ready is None:
        return await launch_browser(playwright, config), None
    if takes_early_browser(config):
        return ready.browser, ready.user_agent
    # not wanted: closed while the wanted one starts or connects, not before
    closing = asyncio.ensure_future(ready.browser.close())
    try:
        return await launch_browser(playwright, config), None
    finally:
        with contextlib.suppress(PlaywrightError):
            await closing


class BrowserSource(Protocol):
    """Where a context's browser comes from: one fixed browser (run-smoke), or the agent's
    ``BrowserKeeper``, which starts a new one after a crash."""

    # whether a browser lost mid-run is started again (or reconnected) without being asked
    reconnects: bool

    def lease(self) -> AbstractAsyncContextManager[Browser]:
        """A live browser for the time it takes to make one context on it."""
        ...


class _OneBrowser:
    reconnects = False

    def __init__(self, browser: Browser) -> None:
        self.browser = browser

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[Browser]:
        yield self.browser


class ContextFactory:
    """Makes a fresh, synthetic-marked browser context per journey on a shared browser."""

    def __init__(
        self,
        browser: Browser | BrowserSource,
        config: BrowserConfig,
        marking: SyntheticMarking,
        base_user_agent: str | None = None,  # the browser's own, if already read
    ):
        self._source: BrowserSource = (
            _OneBrowser(browser) if isinstance(browser, Browser) else browser
        )
        self._config = config
        self._marking = marking
        self._user_agent = self._marked(base_user_agent) if base_user_agent else None

    async def new_context(
        self, step_timeout: float, guard: HostGuard | None = None
    ) -> BrowserContext:
        """``guard``: keep the context to its storefront's allowed hosts."""
        async with self._source.lease() as browser:
            if self._user_agent is None:
                self._user_agent = await self._synthetic_user_agent(browser)
            context = await browser.new_context(
                user_agent=self._user_agent,
                extra_http_headers={self._marking.header_name: self._marking.header_value},
                viewport={
                    "width": self._config.viewport_width,
                    "height": self._config.viewport_height,
                },
                locale=self._config.locale,
                proxy=guard.proxy if guard is not None else None,
            )
        if guard is not None:
            guard.watch(context)
        context.set_default_timeout(step_timeout * 1000)
        context.set_default_navigation_timeout(step_timeout * 1000)
        return context

    def lost_browser(self) -> str:
        """Why a run failed when its browser went away under it: never the shop's doing."""
        remote = self._config.remote
        if remote is not None:
            return lost_connection(remote, reconnecting=self._source.reconnects)
        return "the browser closed or crashed during this step"

    async def _synthetic_user_agent(self, browser: Browser) -> str:
        return self._marked(await read_user_agent(browser))

    def _marked(self, base: str) -> str:
        base = base.replace("HeadlessChrome", "Chrome")
        return f"{base} checkout-monitor/{__version__} {self._marking.user_agent_suffix}"
