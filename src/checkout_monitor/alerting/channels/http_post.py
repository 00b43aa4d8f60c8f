"""One JSON POST to a receiver, with the answer turned into success or a ``DeliveryError``.

Every HTTP channel shares this so they all classify failures the same way and none of them
lets a URL, token or header value slip into an error message: httpx's own exception texts
often hold the URL, so only their class names are kept, and the receiver's answer is cut
short and scrubbed of every secret the channel knows.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import parse_qsl, urlsplit

import httpx

from checkout_monitor.alerting.channels.base import DeliveryError
from checkout_monitor.alerting.notification import Notification
from checkout_monitor.evidence.redaction import redact
from checkout_monitor.text.durations import format_duration

SNIPPET_CHARS = 200
_SNIPPET_READ_BYTES = 2048  # enough for a 200-character snippet, never a whole error page
_HIDDEN = "<hidden>"
_SECRET_SEGMENT = 8  # path segments this long may be tokens; "api", "v2" are not
_TRANSIENT_STATUSES = frozenset({408, 429})  # plus every 5xx


def is_transient_status(status: int) -> bool:
    """5xx, 429 and 408 may succeed later; any other non-2xx means the request is wrong."""
    return status >= 500 or status in _TRANSIENT_STATUSES


def url_secrets(url: str) -> list[str]:
    """Every part of a URL that could be secret or identify it: the whole, its origin and
    host, path and its longer segments (Slack's token), query and its values, password.
    Hidden from response snippets, which some receivers echo back."""
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname or ""
    pieces = [
        url,
        f"{parts.scheme}://{parts.netloc}",
        f"{parts.scheme}://{host}",  # the same origin without its user and password
        parts.netloc,
        host,
        parts.hostname,
        parts.path,
        parts.query,
        parts.password,
        # tokens on their own, as a receiver may echo them (Slack's T…/B…/secret)
        parts.path.lstrip("/"),
        *(segment for segment in parts.path.split("/") if len(segment) >= _SECRET_SEGMENT),
        *(value for _, value in parse_qsl(parts.query)),
    ]
    return [piece for piece in pieces if piece]


def hide_secrets(text: str, secrets: Iterable[str]) -> str:
    return redact(text, secrets, _HIDDEN)


def snippet(text: str, secrets: Iterable[str]) -> str:
    """The start of a receiver's answer on one line, secrets hidden, at most 200 characters."""
    flat = hide_secrets(" ".join(text.split()), secrets)
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"


async def post_json(
    http: httpx.AsyncClient,
    *,
    where: str,
    url: str,
    body: Any,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
) -> None:
    """POST ``body`` as JSON once; return on any 2xx, raise ``DeliveryError`` otherwise.

    ``where`` names the channel in messages (``slack channel 'ops'``). ``timeout`` bounds the
    whole exchange, not just each read, so a receiver that trickles bytes cannot hold a
    delivery forever.
    """
    try:
        async with (
            asyncio.timeout(timeout),
            http.stream("POST", url, json=body, headers=headers, timeout=timeout) as response,
        ):
            if response.is_success:
                return
            status = response.status_code
            answer = await _read_start(response)
    except (TimeoutError, httpx.TimeoutException):
        raise DeliveryError(
            f"{where}: no answer within {format_duration(timeout)}", transient=True
        ) from None
    except httpx.TransportError as exc:
        raise DeliveryError(
            f"{where}: could not reach the receiver ({type(exc).__name__})", transient=True
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise DeliveryError(
            f"{where}: request failed ({type(exc).__name__})", transient=False
        ) from None
    shown = snippet(answer, secrets)
    raise DeliveryError(
        f"{where}: HTTP {status}" + (f": {shown}" if shown else ""),
        transient=is_transient_status(status),
    )


async def _read_start(response: httpx.Response) -> str:
    """The first couple of KB of an error answer; an unreadable body is just not shown."""
    data = b""
    try:
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) >= _SNIPPET_READ_BYTES:
                break
    except httpx.HTTPError:
        pass
    return data[:_SNIPPET_READ_BYTES].decode("utf-8", errors="replace")


@dataclass(frozen=True)
class JsonPost:
    """What one HTTP channel posts for one notification, and what to hide from its errors."""

    url: str
    body: Any
    headers: Mapping[str, str] | None = None
    secrets: Sequence[str] = field(default_factory=tuple)


ConfigT = TypeVar("ConfigT")


class JsonPostSender(ABC, Generic[ConfigT]):
    """An HTTP channel: one JSON POST per notification; each kind says only what to post."""

    kind: ClassVar[str]
    member = ""  # see Channel.member
    keeps_state = False  # see Channel.keeps_state

    def __init__(self, name: str, config: ConfigT, http: httpx.AsyncClient, timeout: float) -> None:
        self.name = name
        self.config = config
        self._http = http
        self._timeout = timeout

    @property
    def where(self) -> str:
        """How messages name this receiver: ``slack channel 'ops'``, never by its URL."""
        return f"{self.kind} channel {self.name!r}"

    @abstractmethod
    def request(self, notification: Notification, now: datetime) -> JsonPost: ...

    async def send(self, notification: Notification, now: datetime) -> None:
        post = self.request(notification, now)
        await post_json(
            self._http,
            where=self.where,
            url=post.url,
            body=post.body,
            timeout=self._timeout,
            headers=post.headers,
            secrets=post.secrets,
        )
