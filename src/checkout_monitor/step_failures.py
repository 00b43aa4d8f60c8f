"""Why a step failed, from whatever it raised: a failure kind and a message for a person."""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from checkout_monitor.errors import BrowserUnavailableError
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.text.quoting import first_line

if TYPE_CHECKING:
    from playwright.async_api import Error as PlaywrightError


class CheckFailed(Exception):
    """A check found the shop broken. The page-object and journeys raise it; steps record it."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(f"{kind.value}: {message}")


_NET_ERROR = re.compile(r"net::(ERR_[A-Z0-9_]+)(?: at (\S+))?")
_CONNECTION = FailureKind.CONNECTION_ERROR
# Chromium's network errors a shop causes, in words for whoever is on call ({host}: the
# shop's host and port). Codes not listed keep Chromium's name alone.
_NET_REASONS: dict[str, tuple[FailureKind, str]] = {
    "ERR_NAME_NOT_RESOLVED": (_CONNECTION, "the host name {host} does not resolve in DNS"),
    "ERR_NAME_RESOLUTION_FAILED": (_CONNECTION, "the host name {host} does not resolve in DNS"),
    "ERR_CONNECTION_REFUSED": (
        _CONNECTION,
        "nothing is listening at {host} (connection refused): the shop or its load balancer "
        "is down",
    ),
    "ERR_CONNECTION_RESET": (_CONNECTION, "{host} reset the connection"),
    "ERR_CONNECTION_CLOSED": (_CONNECTION, "{host} closed the connection without an answer"),
    "ERR_EMPTY_RESPONSE": (_CONNECTION, "{host} closed the connection without an answer"),
    "ERR_CONNECTION_TIMED_OUT": (_CONNECTION, "{host} did not accept a connection in time"),
    "ERR_ADDRESS_UNREACHABLE": (_CONNECTION, "{host} cannot be reached from this agent"),
    "ERR_UNSAFE_PORT": (_CONNECTION, "the browser never connects to {host}: a port it blocks"),
    "ERR_TOO_MANY_REDIRECTS": (FailureKind.HTTP_ERROR, "redirects endlessly"),
}
# What a code means when its name alone does not say it.
_CODE_NOTES = {"ERR_TOO_MANY_REDIRECTS": ": the browser gives up after 20 redirects"}
_BROWSER_GONE = (
    "has been closed",
    "Target closed",
    "browser has disconnected",
    "Browser closed",
    "Connection closed",
)
_NAVIGATED = (
    "Execution context was destroyed",
    "Frame was detached",
    "interrupted by another navigation",
)
_WAITING_FOR = re.compile(r"waiting for (.+)")


def classify(exc: BaseException) -> tuple[FailureKind, str]:
    """Map an exception raised inside a step to (failure kind, plain message)."""
    # Imported here: `validate` loads the journeys (and so this module) but never a browser.
    from playwright.async_api import Error as PlaywrightError  # noqa: PLC0415
    from playwright.async_api import TimeoutError as PlaywrightTimeoutError  # noqa: PLC0415

    if isinstance(exc, CheckFailed):
        return exc.kind, exc.message
    if isinstance(exc, BrowserUnavailableError):  # the agent could not start it again
        return FailureKind.BROWSER_CRASH, f"the monitor's browser is gone: {first_line(str(exc))}"
    if isinstance(exc, PlaywrightTimeoutError):
        waiting = _WAITING_FOR.search(exc.message)
        what = f" waiting for {waiting[1].strip()}" if waiting else ""
        return FailureKind.TIMEOUT, f"timed out{what}"
    if isinstance(exc, PlaywrightError):
        net = net_failure(exc)
        if net is not None:
            return net.kind, net.message()
        if any(marker in exc.message for marker in _NAVIGATED):
            return FailureKind.ASSERTION, "the page navigated away while it was being read"
        if any(marker in exc.message for marker in _BROWSER_GONE):
            return FailureKind.BROWSER_CRASH, "the browser closed or crashed during this step"
        return (
            FailureKind.JOURNEY_ERROR,
            f"the browser refused a command: {first_line(exc.message)}",
        )
    return FailureKind.JOURNEY_ERROR, f"the journey script raised {_where(exc)}"


@dataclass(frozen=True)
class NetFailure:
    """A Chromium network error (net::ERR_...) in a person's words."""

    kind: FailureKind
    code: str
    url: str  # what the browser was loading, "" when Chromium did not say
    reason: str

    @property
    def code_text(self) -> str:
        return f"net::{self.code}{_CODE_NOTES.get(self.code, '')}"

    def message(self, subject: str = "", detail: str = "") -> str:
        """Why ``subject`` (e.g. "the cart (/cart)", default: the URL) failed; ``detail``
        follows the reason (e.g. ": /a -> /b -> /a")."""
        said = f"{self.reason}{detail} ({self.code_text})"
        if self.kind is _CONNECTION:
            return f"could not reach the shop{f' to open {subject}' if subject else ''}: {said}"
        return f"{subject or self.url or 'the page'} {said}"


def net_failure(exc: PlaywrightError) -> NetFailure | None:
    """The network error ``exc`` reports, if it reports one."""
    net = _NET_ERROR.search(exc.message)
    if net is None:
        return None
    code, url = net[1], net[2] or ""
    kind, reason = _NET_REASONS.get(code) or _by_prefix(code)
    return NetFailure(kind, code, url, reason.format(host=urlsplit(url).netloc or "its host"))


def _by_prefix(code: str) -> tuple[FailureKind, str]:
    if code.startswith("ERR_CERT_"):
        return _CONNECTION, "the TLS certificate of {host} is not trusted"
    if code.startswith(("ERR_SSL_", "ERR_TLS_")):
        return _CONNECTION, "the TLS handshake with {host} failed"
    return _CONNECTION, "the browser could not load the page"


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    place = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}{place}"
