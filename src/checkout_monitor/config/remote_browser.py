"""``browser.remote``: a browser that lives elsewhere (a ``playwright run-server``, or a
Chromium's debugging port), and its URL, which may hold a token and is never shown whole.

The token sits in the user and password, the path (``playwright run-server --path /<token>``
is the only key a run-server has) or a credential in the query (``?token=...``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import AfterValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from checkout_monitor.config.fields import StrictModel, url_problem

# What a URL's hidden parts show as: a token in the user, password, path or query is a secret.
HIDDEN = "***"
# Query keys whose values are credentials (matched in the key, any case, - or _): any other
# value (?browser=chromium) is a plain word, which as a secret would blank every use of it.
_CREDENTIAL_KEYS = ("token", "key", "secret", "pass", "pwd", "auth", "sig", "credential", "jwt")
_SCHEMES = ("ws://", "wss://", "http://", "https://")
_EXAMPLE = "ws://checkout-monitor-browsers:3000/"
REMOTE_URL_ERROR = "remote_url"
"""The pydantic error type of a bad remote URL: its input may hold a token, never quoted back."""


class RemoteProtocol(StrEnum):
    PLAYWRIGHT = "playwright"  # a Playwright browser server's websocket (playwright run-server)
    CDP = "cdp"  # a Chromium started with --remote-debugging-port (Chrome DevTools Protocol)


def shown_url(url: str) -> str:
    """``url`` fit to print: its user, password, path and query (where servers and services
    put a token) replaced by ``***``; scheme, host and port kept, so a person knows where it
    points: ``ws://browsers:3000/***``."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:
        return f"{url.split(':', 1)[0]}://{HIDDEN}"
    user = f"{HIDDEN}@" if "@" in parts.netloc else ""
    path = f"/{HIDDEN}" if parts.path not in ("", "/") else parts.path
    query = f"?{HIDDEN}" if parts.query else ""
    return f"{parts.scheme}://{user}{host}{path}{query}"


def url_secrets(url: str) -> list[str]:
    """The parts of ``url`` that may be a token: its user and password, its path when it
    is more than ``/`` (with its slash: a path such as ``/playwright`` is also a word), and
    the query values of credential keys (``token``, ``api_key``, ``password``, ...)."""
    try:
        parts = urlsplit(url)
        pieces = [parts.username, parts.password]
        if parts.path not in ("", "/"):
            pieces += [parts.path, unquote(parts.path)]
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if _is_credential(key):
                pieces += [value, *(raw for raw in _raw_values(parts.query, key))]
    except ValueError:
        return [url]
    return list(dict.fromkeys(piece for piece in pieces if piece))


def _is_credential(key: str) -> bool:
    folded = key.lower().replace("-", "_")
    return any(marker in folded for marker in _CREDENTIAL_KEYS)


def _raw_values(query: str, key: str) -> list[str]:
    """``key``'s values as written (percent-escapes and all), beside the decoded ones."""
    return [
        pair.partition("=")[2]
        for pair in query.split("&")
        if unquote(pair.partition("=")[0].replace("+", " ")) == key
    ]


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
        description="where the browser listens; a token in it (user, password, path, or a "
        "credential in the query such as ?token=) is kept out of every output"
    )

    @property
    def shown_url(self) -> str:
        return shown_url(self.url)

    @property
    def secrets(self) -> list[str]:
        return url_secrets(self.url)
