"""Reusable validated field types for the config models."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

import httpx
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, WithJsonSchema
from pydantic_core import PydanticCustomError

from checkout_monitor.text.durations import (
    DURATION_HINT,
    DURATION_PATTERN,
    format_duration,
    parse_duration,
)


class StrictModel(BaseModel):
    """Unknown keys are errors; loaded config never changes under the runner's feet."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _to_seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration: use {DURATION_HINT}")
    return parse_duration(value)


DURATION_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": DURATION_PATTERN,
    "description": f"a duration: {DURATION_HINT}",
}
"""What a duration is in the config's JSON Schema: text with units, never a bare number."""


class _Seconds(BeforeValidator):
    """Parses durations written with units; says so in the JSON Schema (``schema``)."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        return dict(DURATION_SCHEMA)


SECONDS = _Seconds(_to_seconds)
"""Annotate a float field with this to accept durations written with units."""


def between(low: float, high: float) -> AfterValidator:
    """Bound a duration field to [low, high] seconds, saying the range in the error."""

    def in_range(seconds: float) -> float:
        if not low <= seconds <= high:
            raise ValueError(
                f"must be between {format_duration(low)} and {format_duration(high)}, "
                f"got {format_duration(seconds)}"
            )
        return seconds

    return AfterValidator(in_range)


_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid name: use lower-case letters, digits, '-', '_' or '.', "
            "starting with a letter or digit (at most 63 characters)"
        )
    return value


Name = Annotated[
    str,
    AfterValidator(_check_name),
    WithJsonSchema({"type": "string", "pattern": _NAME.pattern}),
]
"""A name that is safe as a metric label value and a file name."""


def control_character(text: str) -> str | None:
    """The first control character in ``text``, in words (None if there is none)."""
    for ch in text:
        if ch in "\r\n":
            return "a line break (CR/LF)"
        if ch == "\0":
            return "a NUL character"
        if ch == "\t":
            return "a tab"
        if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            return f"a control character (U+{ord(ch):04X})"
    return None


# What the WHATWG URL parser (Chromium, Playwright's request API) refuses in a host
_FORBIDDEN_IN_HOST = frozenset(" #%/:<>?@[\\]^|")
_IP_LIKE = re.compile(r"[0-9.]+")
_URL_EXAMPLE = "https://shop.example.com"
_IPV6_EXAMPLE = "http://[::1]:8080"
_CONTROL_HINT = "which browsers drop from a URL; remove it, or percent-encode it"


def url_problem(url: str) -> str | None:
    """Why the browser or httpx would refuse this absolute http(s) URL, or None.

    Checked here so ``validate`` refuses what the run would: a malformed base_url was
    only found when ``page.goto`` failed, and blamed on the journey script."""
    control = control_character(url)
    if control is not None:
        return f"holds {control}, {_CONTROL_HINT}"
    if not re.match(r"^https?://", url):
        return f"is not an http(s) URL such as {_URL_EXAMPLE}"
    authority = re.split(r"[/?#\\]", url.split("://", 1)[1], maxsplit=1)[0]
    reason = _authority_problem(authority.rpartition("@")[2])  # what follows user:pass@
    if reason is None:
        try:
            httpx.URL(url)  # what the alert channels send with: IDNA host names, mainly
        except httpx.InvalidURL as exc:
            reason = str(exc)
            reason = reason[:1].lower() + reason[1:]
    return None if reason is None else f"is not a valid URL: {reason}"


def _authority_problem(host_port: str) -> str | None:
    """What Chromium's URL parser refuses in ``host:port``, said with what would be valid."""
    if host_port.startswith("["):
        address, bracket, port = host_port[1:].partition("]")
        if not bracket:
            return f"the IPv6 address has no closing ']'; write it as in {_IPV6_EXAMPLE}"
        if "%" in address:
            return (
                "browsers refuse an IPv6 zone index (the part from '%'); use an address "
                "without one, or a host name"
            )
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            return f"{address!r} is not an IPv6 address; write one as in {_IPV6_EXAMPLE}"
        if port and not port.startswith(":"):
            return f"a ':' and the port go after ']', as in {_IPV6_EXAMPLE}"
        port = port[1:]
    else:
        host, _, port = host_port.partition(":")
        if ":" in port:
            return f"an IPv6 address goes in brackets, as in {_IPV6_EXAMPLE}"
        if not host:
            return f"it has no host; write one, as in {_URL_EXAMPLE}"
        bad = next((ch for ch in host if ch in _FORBIDDEN_IN_HOST), None)
        if bad is not None:
            what = "a space" if bad == " " else repr(bad)
            return f"a host name cannot hold {what}; write one as in {_URL_EXAMPLE}"
        if _IP_LIKE.fullmatch(host) and not _is_ipv4(host):
            return (
                f"{host!r} is not an IPv4 address; write four numbers from 0 to 255, "
                "as in http://192.0.2.10:8080"
            )
    if port and not _is_port(port):
        return "the port must be a number from 1 to 65535"
    return None


def _is_port(text: str) -> bool:
    digits = text.lstrip("0")  # leading zeros are allowed; a thousand digits are not parsed
    return text.isascii() and text.isdigit() and len(digits) <= 5 and 1 <= int(digits or 0) <= 65535


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _check_http_url(value: str) -> str:
    problem = url_problem(value)
    if problem is not None:
        raise ValueError(f"{value!r} {problem}")
    return value.rstrip("/")


HttpUrl = Annotated[
    str,
    AfterValidator(_check_http_url),
    WithJsonSchema({"type": "string", "pattern": "^https?://", "description": "an http(s) URL"}),
]
"""An absolute http(s) URL that Chromium, Playwright's request API and httpx all accept."""


def _check_url_or_path(value: str) -> str:
    if value.startswith(("http://", "https://")):
        problem = url_problem(value)
    else:
        control = control_character(value)
        problem = control and f"holds {control}, {_CONTROL_HINT}"
    if problem is not None:
        raise ValueError(f"{value!r} {problem}")
    return value


UrlOrPath = Annotated[str, AfterValidator(_check_url_or_path)]
"""A path on the storefront, or an absolute URL (checked as ``HttpUrl`` is)."""


def _check_header_name(value: str) -> str:
    if not _TOKEN.fullmatch(value):
        raise ValueError(
            "it is not an HTTP header name; use letters, digits and '-' (no spaces or ':'), "
            "e.g. X-Api-Key"
        )
    return value


def _check_header_value(value: str) -> str:
    # the message never quotes the value: it is often a token from ${ENV}
    control = control_character(value.replace("\t", " "))  # a tab is allowed in a header
    if control is not None:
        if control.startswith("a line break"):
            hint = "remove it (a token read from a file often ends in one)"
        else:
            hint = "use visible ASCII characters, spaces and tabs only"
        raise PydanticCustomError(
            HEADER_VALUE_ERROR, f"the value holds {control}, which HTTP forbids in a header; {hint}"
        )
    if not value.isascii():
        raise PydanticCustomError(
            HEADER_VALUE_ERROR,
            "the value holds a character that is not ASCII, which HTTP headers cannot carry; "
            "use visible ASCII characters, spaces and tabs only (percent-encode other text)",
        )
    return value


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
HEADER_VALUE_ERROR = "header_value"
"""The pydantic error type of a bad header value: its input is never quoted back."""
HeaderName = Annotated[
    str,
    AfterValidator(_check_header_name),
    WithJsonSchema({"type": "string", "pattern": f"^{_TOKEN.pattern}$"}),
]
HeaderValue = Annotated[str, AfterValidator(_check_header_value)]
Headers = dict[HeaderName, HeaderValue]
"""HTTP headers as the run sends them: Chromium, Playwright and httpx refuse a line break,
any other control character, a non-ASCII value or a name that is not an HTTP token."""


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from None
    return value


Regex = Annotated[
    str, AfterValidator(_check_regex), WithJsonSchema({"type": "string", "format": "regex"})
]
