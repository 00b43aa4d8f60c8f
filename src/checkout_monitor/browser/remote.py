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
# a server's HTTP answer instead of a websocket: "WebSocket error: <url> 428 Precondition ..."
_REFUSED = re.compile(r"^WebSocket error: \S+ (\d{3})([^\n]*)")
_PASSING = frozenset({408, 429})  # 4xx answers that mean "later", not "never"
_BOX = " \u2551\u2554\u2557\u255a\u255d\u2550"  # the box a run-server draws round its reasons
_HINTS = {
    400: "a `playwright run-server --path` answers on that path only: check the URL's path",
    401: "check the credentials in the URL",
    403: "check the credentials in the URL, and that the server lets this host in",
    404: "no browser server at this path: check the URL",
    428: "the agent's Playwright and the server's must be the same minor version",
}


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
        raise connect_failure(exc, remote) from None


def connect_failure(exc: PlaywrightError, remote: RemoteBrowser) -> BrowserUnavailableError:
    """What a failed connect to ``remote`` says: where, why, whether it lasts."""
    reason, lasting = _reason(exc, remote)
    return BrowserUnavailableError(
        f"could not connect to the remote browser at {remote.shown_url} "
        f"(protocol {remote.protocol.value}): {reason}; {NOT_THE_SHOP}",
        lasting=lasting,
    )


def lost_connection(remote: RemoteBrowser, *, reconnecting: bool) -> str:
    """A run's failure when the connection dropped under it, for whoever is on call."""
    then = "the agent is reconnecting" if reconnecting else "check the browser server"
    where = remote.shown_url
    return f"lost the connection to the remote browser at {where}: {then}; {NOT_THE_SHOP}"


def _reason(exc: PlaywrightError, remote: RemoteBrowser) -> tuple[str, bool]:
    """Why, in Playwright's words without the call it names, its call log, or the URL it
    may quote whole (token and all); and whether it lasts: an HTTP 4xx answer to the
    websocket upgrade (a wrong path, a Playwright version mismatch) does not pass by
    itself, a server down or restarting does."""
    text = _CALL.sub("", exc.message.split("\nCall log:", 1)[0].strip())
    refused = _REFUSED.match(text)
    if refused is None:
        reason, lasting = first_line(text), False
    else:
        status = int(refused[1])
        lasting = 400 <= status < 500 and status not in _PASSING
        reason = f"the server answered {status} {refused[2].strip()}".rstrip()
        detail = _boxed(text.splitlines()[1:])
        reason += f": {detail}" if detail else ""
        reason += f" ({_HINTS[status]})" if status in _HINTS else ""
    for secret in [remote.url, *remote.secrets]:
        reason = reason.replace(secret, remote.shown_url if secret == remote.url else "***")
    return reason, lasting


def _boxed(lines: list[str]) -> str:
    """The first paragraph of the text a server boxed in its answer, on one line:
    ``Playwright version mismatch: server version: v1.65, client version: v1.10``."""
    kept: list[str] = []
    for raw in lines:
        line = raw.strip(_BOX).strip()
        if not line and kept:
            break
        if line:
            kept.append(line.removeprefix("- "))
    return f"{kept[0]} {', '.join(kept[1:])}".strip() if kept else ""
