"""Why a step failed, from whatever it raised: a failure kind and a message for a person."""

from __future__ import annotations

import re
import traceback

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.quoting import first_line


class CheckFailed(Exception):
    """A check found the shop broken. The page-object and journeys raise it; steps record it."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(f"{kind.value}: {message}")


_NET_ERROR = re.compile(r"net::(ERR_[A-Z_]+)")
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
    if isinstance(exc, CheckFailed):
        return exc.kind, exc.message
    if isinstance(exc, PlaywrightTimeoutError):
        waiting = _WAITING_FOR.search(exc.message)
        what = f" waiting for {waiting[1].strip()}" if waiting else ""
        return FailureKind.TIMEOUT, f"timed out{what}"
    if isinstance(exc, PlaywrightError):
        net = _NET_ERROR.search(exc.message)
        if net:
            return FailureKind.CONNECTION_ERROR, f"could not reach the shop ({net[1]})"
        if any(marker in exc.message for marker in _NAVIGATED):
            return FailureKind.ASSERTION, "the page navigated away while it was being read"
        if any(marker in exc.message for marker in _BROWSER_GONE):
            return FailureKind.BROWSER_CRASH, "the browser closed or crashed during this step"
        return (
            FailureKind.JOURNEY_ERROR,
            f"the browser refused a command: {first_line(exc.message)}",
        )
    return FailureKind.JOURNEY_ERROR, f"the journey script raised {_where(exc)}"


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    place = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {exc}{place}"
