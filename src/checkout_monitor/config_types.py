"""Reusable validated field types for the config models."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from checkout_monitor.durations import DURATION_HINT, format_duration, parse_duration


class StrictModel(BaseModel):
    """Unknown keys are errors; loaded config never changes under the runner's feet."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _to_seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration: use {DURATION_HINT}")
    return parse_duration(value)


SECONDS = BeforeValidator(_to_seconds)
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


Name = Annotated[str, AfterValidator(_check_name)]
"""A name that is safe as a metric label value and a file name."""


def _check_http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL such as https://shop.example.com")
    return value.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(_check_http_url)]


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from None
    return value


Regex = Annotated[str, AfterValidator(_check_regex)]
