"""Pydantic's validation errors rewritten as our one-line problems.

Pydantic names types and internal paths; a person editing YAML needs the key as written, the
line, what was given and what would be valid (with a "did you mean" for a misspelt key).
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from checkout_monitor.config.fields import HEADER_VALUE_ERROR
from checkout_monitor.config.locations import Loc, format_loc, line_of, shorten
from checkout_monitor.config.model import Config
from checkout_monitor.config.remote_browser import REMOTE_URL_ERROR
from checkout_monitor.errors import ConfigProblem


def validation_problems(exc: ValidationError, lines: Mapping[Loc, int]) -> list[ConfigProblem]:
    """One problem per pydantic error, in pydantic's order; messages are shortened later."""
    return [_problem(err, lines) for err in exc.errors()]


def _problem(err: Mapping[str, Any], lines: Mapping[Loc, int]) -> ConfigProblem:
    loc: Loc = tuple(err["loc"])
    kind = err["type"]
    # pydantic marks a dict key that failed its own check with a last "[key]"; a key really
    # written "[key]" is only ever unknown or missing
    bad_key = len(loc) >= 2 and loc[-1] == "[key]" and kind not in ("extra_forbidden", "missing")
    if kind == "extra_forbidden":
        message = _unknown_key_message(loc)
    elif kind == "missing":
        message = "required, but missing"
    else:
        message = str(err["msg"]).removeprefix("Value error, ")
        given = err.get("input")
        if (
            isinstance(given, (str, int, float, bool))
            and not bad_key  # the message below names the key already
            # often a token (from ${ENV}, or in a browser server's URL): never quoted back
            and kind not in (HEADER_VALUE_ERROR, REMOTE_URL_ERROR)
            and not _mentions(message, given)
        ):
            message += f" (got {shorten(repr(given))})"
    if bad_key:
        loc = loc[:-1]
        message = f"the name {shorten(repr(loc[-1]))} is not allowed: {message}"
    return ConfigProblem(format_loc(loc), message, line_of(loc, lines))  # shortened later


def _mentions(message: str, given: object) -> bool:
    return repr(given) in message or str(given) in message or "got " in message


def _unknown_key_message(loc: Loc) -> str:
    valid = sorted(_fields_at(Config, loc[:-1]))
    if not valid:
        return "unknown key"
    near = difflib.get_close_matches(str(loc[-1]), valid, n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    return f"unknown key ({hint}valid keys: {', '.join(valid)})"


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed at ``loc``, found by walking the model classes down the path."""
    target: Any = model
    for part in loc:
        target = _strip_optional(target)
        if _is_model(target):
            field = _fields_by_key(target).get(str(part))
            if field is None:
                return []
            target = field.annotation
        elif typing.get_origin(target) in (list, dict):
            target = typing.get_args(target)[-1]  # this part is an index or a key
        else:
            return []
    target = _strip_optional(target)
    return list(_fields_by_key(target)) if _is_model(target) else []


def _fields_by_key(model: type[BaseModel]) -> dict[str, Any]:
    """Fields by the key written in YAML (``for``, not ``for_``)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _strip_optional(annotation: Any) -> Any:
    """From ``X | None`` or ``Annotated[X, ...]`` down to X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        else:
            return annotation


def _is_model(target: Any) -> bool:
    return isinstance(target, type) and issubclass(target, BaseModel)
