"""``browser.remote``: a browser that lives elsewhere (a ``playwright run-server``, or a
Chromium's debugging port), and its URL, which may hold a token and is never shown whole."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from urllib.parse import parse_qsl, urlsplit

from pydantic import AfterValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from checkout_monitor.config.fields import StrictModel, url_problem

# What a URL's hidden parts show as: a token in the user, password or query is a secret.
HIDDEN = "***"
_SCHEMES = ("ws://", "wss://", "http://", "https://")
_EXAMPLE = "ws://checkout-monitor-browsers:3000/"
REMOTE_URL_ERROR = "remote_url"
"""The pydantic error type of a bad remote URL: its input may hold a token, never quoted back."""


class RemoteProtocol(StrEnum):
    PLAYWRIGHT = "playwright"  # a Playwright browser server's websocket (playwright run-server)
    CDP = "cdp"  # a Chromium started with --remote-debugging-port (Chrome DevTools Protocol)


def shown_url(url: str) -> str:
    """``url`` fit to print: its user, password and query (where services put a token)
    replaced by ``***``; scheme, host, port and path kept, so a person knows where it points."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return f"{url.split(':', 1)[0]}://{HIDDEN}"
    user = f"{HIDDEN}@" if "@" in parts.netloc else ""
    query = f"?{HIDDEN}" if parts.query else ""
    return f"{parts.scheme}://{user}{host}{parts.path}{query}"


def url_secrets(url: str) -> list[str]:
    """The parts of ``url`` that may be a token: its user, password and query values."""
    try:
        parts = urlsplit(url)
        pieces = [parts.username, parts.password, parts.query]
        pieces += [value for _, value in parse_qsl(parts.query)]
    except ValueError:
        return [url]
    return [piece for piece in pieces if piece]


def _check_remote_url(value: str) -> str:
    if not value.lower().startswith(_SCHEMES):
        raise PydanticCustomError(
            REMOTE_URL_ERROR,
            f"{shown_url(value)!r} is not a ws://, wss://, http:// or https:// URL; write the "
            f"browser server's address, e.g. {_EXAMPLE}",
        )
    scheme, rest = value.split("://", 1)
    # the same rules as an http(s) URL: only the scheme differs
    problem = url_problem(f"{'https' if scheme.lower() in ('wss', 'https') else 'http'}://{rest}")
    if problem is not None:
        raise PydanticCustomError(REMOTE_URL_ERROR, f"{shown_url(value)!r} {problem}")
    return value


RemoteUrl = Annotated[
    str,
    AfterValidator(_check_remote_url),
    WithJsonSchema(
        {"type": "string", "pattern": "^(wss?|https?)://", "description": "a ws(s) or http(s) URL"}
    ),
]


class RemoteBrowser(StrictModel):
    """A browser the agent connects to instead of launching one: executable, headless,
    extra_args and recycle_above_mib do not apply to it (the browser server decides how its
    browser runs)."""

    protocol: RemoteProtocol = Field(
        description="playwright: a `playwright run-server` websocket; cdp: a Chromium's "
        "--remote-debugging-port (its http:// address or its ws:// DevTools URL)"
    )
    url: RemoteUrl = Field(
        description="where the browser listens; a token in it (user, password or query) is "
        "kept out of every output"
    )

    @property
    def shown_url(self) -> str:
        return shown_url(self.url)

    @property
    def secrets(self) -> list[str]:
        return url_secrets(self.url)
