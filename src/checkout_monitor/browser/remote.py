"""Connecting to a remote browser (``browser.remote``) instead of launching one: a Playwright
browser server over its websocket, or a plain Chromium over the DevTools protocol.

A ``playwright run-server`` launches a browser for each client that connects, with the
launch options the client sends in the ``x-playwright-launch-options`` header. It takes
``headless`` from any client; our closed-network flags (``args``) only when it was started
with ``--unsafe``, else it uses its own defaults, which already keep Chromium off Google's
hosts. Which Chromium it runs is the server's business (its image, or its
``PLAYWRIGHT_BROWSERS_PATH``), never the agent's.
"""

from __future__ import annotations

import json
import re

from playwright.async_api import Browser, Playwright
from playwright.async_api import Error as PlaywrightError

from checkout_monitor.browser.chromium import LAUNCH_FLAGS
from checkout_monitor.config.remote_browser import RemoteBrowser, RemoteProtocol
from checkout_monitor.errors import BrowserUnavailableError
from checkout_monitor.text.quoting import first_line

CONNECT_SECONDS = 30.0  # a server launching a browser for us takes a second or two
LAUNCH_OPTIONS_HEADER = "x-playwright-launch-options"
NOT_THE_SHOP = "this is not the shop's fault"
_CALL = re.compile(r"^BrowserType\.\w+: ")


def launch_options() -> dict[str, object]:
    """What a Playwright browser server is asked to launch for us."""
    return {"headless": True, "args": list(LAUNCH_FLAGS)}


async def connect_remote(playwright: Playwright, remote: RemoteBrowser) -> Browser:
    """A browser on ``remote``; ``BrowserUnavailableError`` says where and why not, with the
    URL's token hidden."""
    try:
        if remote.protocol is RemoteProtocol.PLAYWRIGHT:
            return await playwright.chromium.connect(
                remote.url,
                timeout=CONNECT_SECONDS * 1000,
                headers={LAUNCH_OPTIONS_HEADER: json.dumps(launch_options())},
            )
        return await playwright.chromium.connect_over_cdp(
            remote.url, timeout=CONNECT_SECONDS * 1000
        )
    except PlaywrightError as exc:
        raise BrowserUnavailableError(
            f"could not connect to the remote browser at {remote.shown_url} "
            f"(protocol {remote.protocol.value}): {_reason(exc, remote)}; {NOT_THE_SHOP}"
        ) from None


def lost_connection(remote: RemoteBrowser, *, reconnecting: bool) -> str:
    """A run's failure when the connection dropped under it, for whoever is on call."""
    then = "the agent is reconnecting" if reconnecting else "check the browser server"
    where = remote.shown_url
    return f"lost the connection to the remote browser at {where}: {then}; {NOT_THE_SHOP}"


def _reason(exc: PlaywrightError, remote: RemoteBrowser) -> str:
    """Playwright's first line, without the call it names or the URL it may quote whole
    (token and all)."""
    reason = _CALL.sub("", first_line(exc.message))
    for secret in [remote.url, *remote.secrets]:
        reason = reason.replace(secret, remote.shown_url if secret == remote.url else "***")
    return reason
