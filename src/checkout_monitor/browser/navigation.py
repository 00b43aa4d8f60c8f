"""Page navigation with declared retries for transient network errors only.

A connection reset or a refused connection during a deploy is retried a configured number of
times with a short backoff; an HTTP error page, a timeout or a failed check never is.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Literal

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Response
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

log = logging.getLogger("checkout_monitor.navigation")  # the name logs and filters know

WaitUntil = Literal["load", "domcontentloaded", "networkidle"]
_TRANSIENT = re.compile(
    r"net::ERR_(CONNECTION_RESET|CONNECTION_REFUSED|CONNECTION_CLOSED|EMPTY_RESPONSE|"
    r"NETWORK_CHANGED|HTTP2_PROTOCOL_ERROR)"
)


def is_transient(exc: BaseException) -> bool:
    """Network hiccups worth one more try; never timeouts or anything the shop answered."""
    if isinstance(exc, PlaywrightTimeoutError) or not isinstance(exc, PlaywrightError):
        return False
    return bool(_TRANSIENT.search(exc.message))


def navigation_retrying(
    attempts: int, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
) -> AsyncRetrying:
    """The retry policy for page loads; ``sleep`` is injectable so tests never wait."""
    return AsyncRetrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_exponential(multiplier=0.25, max=2.0),
        retry=retry_if_exception(is_transient),
        before_sleep=before_sleep_log(log, logging.INFO),
        sleep=sleep,
        reraise=True,
    )


async def goto_with_retries(
    page: Page,
    url: str,
    *,
    wait_until: WaitUntil,
    timeout_ms: float,
    attempts: int,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Response | None:
    async for attempt in navigation_retrying(attempts, sleep):
        with attempt:
            return await page.goto(url, wait_until=wait_until, timeout=timeout_ms)
    return None  # unreachable: reraise=True raises the last error
