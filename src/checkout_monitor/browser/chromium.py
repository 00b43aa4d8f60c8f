"""Which Chromium to start and with which flags: light enough to import before the config."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from checkout_monitor.errors import BrowserUnavailableError

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

# Flags for closed networks: without them Chromium keeps trying to reach Google's hosts.
LAUNCH_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
EXECUTABLE_ENV = "CHECKOUT_MONITOR_CHROMIUM"
_KNOWN_NAMES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")


def find_chromium(configured: str | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """Config, then $CHECKOUT_MONITOR_CHROMIUM, then a system Chromium; None means
    Playwright's own download."""
    for candidate in (configured, environ.get(EXECUTABLE_ENV)):
        if candidate:
            if not Path(candidate).is_file():
                raise BrowserUnavailableError(
                    f"the browser executable {candidate!r} does not exist; fix browser.executable "
                    f"or ${EXECUTABLE_ENV}, or remove it to use a system Chromium"
                )
            return candidate
    for name in _KNOWN_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


async def launch_chromium(
    playwright: Playwright,
    executable: str | None,
    headless: bool = True,
    extra_args: Sequence[str] = (),
) -> Browser:
    """Chromium with the closed-network flags: the one launch call every command makes."""
    return await playwright.chromium.launch(
        executable_path=executable, headless=headless, args=[*LAUNCH_FLAGS, *extra_args]
    )


@dataclass(frozen=True)
class ReadyBrowser:
    """A Chromium started before the config was read, and the User-Agent it sends."""

    browser: Browser
    user_agent: str


async def read_user_agent(browser: Browser) -> str:
    """The browser's own User-Agent, read once, to which every context appends the
    synthetic marking. Playwright has no call for it; Chromium's DevTools protocol does
    (Browser.getVersion: 36 ms). A throwaway page, the fallback, took 250 ms and a fifth
    of a CPU-second, on the path of every run."""
    from playwright.async_api import Error as PlaywrightError  # noqa: PLC0415 (loaded by now)

    with contextlib.suppress(PlaywrightError, KeyError, TypeError):
        session = await browser.new_browser_cdp_session()
        try:
            version = await session.send("Browser.getVersion")
        finally:
            await session.detach()
        said = version["userAgent"]
        if isinstance(said, str) and said:
            return said
    probe = await browser.new_page()
    try:
        agent: str = await probe.evaluate("() => navigator.userAgent")
    finally:
        await probe.close()
    return agent
