"""Turn a YAML file into a validated ``Config``, or a ``ConfigError`` a person can act on.

Every problem names the file, the line where we know it, the field path and what would be
valid. Problems are collected, not raised one at a time, so one run shows them all.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
import os
import re
import stat
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from checkout_monitor.config.alerting import MONITOR_HEALTH_RULE
from checkout_monitor.config.fields import HEADER_VALUE_ERROR
from checkout_monitor.config.model import Config, LoadedConfig
from checkout_monitor.config.sandbox_cards import looks_real, mask_card
from checkout_monitor.errors import ConfigError, ConfigProblem
from checkout_monitor.evidence.redaction import redact_words
from checkout_monitor.text.quoting import first_line

Loc = tuple[str | int, ...]
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
BUILTIN_PROFILES = "builtin_profiles.yaml"


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read, substitute ${ENV_VAR}s, validate and cross-check one config file."""
    path = Path(path)
    return parse_config(read_config_text(path), str(path), path.resolve().parent, environ)


MAX_FILE_BYTES = 1 << 20  # the example config, every option explained, is 26 KiB
_NOT_REGULAR = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def read_config_text(path: Path) -> str:
    """The text of a config file, refusing anything that is not a regular file of at most
    ``MAX_FILE_BYTES`` before reading it: /dev/zero or a FIFO would be read without end."""

    def refuse(message: str, line: int | None = None) -> ConfigError:
        return ConfigError(path, [ConfigProblem("", message, line)])

    try:
        _check_regular(path.stat().st_mode, refuse)  # before opening: a FIFO blocks open()
        # O_NONBLOCK: should the path become a FIFO in between, open() still returns
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as file:
            status = os.fstat(file.fileno())
            _check_regular(status.st_mode, refuse)
            data = b"" if status.st_size > MAX_FILE_BYTES else file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise refuse("file not found") from None
    except OSError as exc:
        raise refuse(f"cannot read the file: {exc}") from None
    size = max(status.st_size, len(data))  # a file that grew since fstat() is read no further
    if size > MAX_FILE_BYTES:
        raise refuse(
            f"too large for a config file: {size:,} bytes, and the limit is 1 MiB "
            f"({MAX_FILE_BYTES:,} bytes); is it the right file?"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at position {exc.start} "
            "cannot be read; save the file as UTF-8",
            data.count(b"\n", 0, exc.start) + 1,
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as open() in text mode reads it


def _check_regular(mode: int, refuse: Callable[[str], ConfigError]) -> None:
    for test, kind in _NOT_REGULAR:
        if test(mode):
            raise refuse(f"not a regular file but {kind}: give the path of a YAML config file")


def parse_config(
    text: str, source: str, base_dir: Path, environ: Mapping[str, str] | None = None
) -> LoadedConfig:
    """Validate config text; ``source`` is how errors name it (a path, or the demo config)."""
    environ = os.environ if environ is None else environ
    data, lines = read_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError(source, [ConfigProblem("", "expected a mapping of keys at the top")])
    problems: list[ConfigProblem] = []
    secrets: set[str] = set()
    data = _substitute_env(data, (), environ, lines, problems, secrets)
    problems += _nul_problems(data, (), lines)
    _apply_extends(data, lines, problems)
    if problems:
        raise ConfigError(source, _redacted(problems, secrets))
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(err, lines) for err in exc.errors()]
        raise ConfigError(source, _redacted(problems, secrets)) from None
    except RecursionError:
        raise ConfigError(source, [ConfigProblem("", "an alias refers to itself")]) from None
    problems = list(_cross_reference_problems(config, lines))
    if problems:
        raise ConfigError(source, _redacted(problems, secrets))
    return LoadedConfig(config, source, base_dir, frozenset(secrets), lines)


def _redacted(problems: list[ConfigProblem], secrets: set[str]) -> list[ConfigProblem]:
    """Values that came from ${ENV} never appear in an error message (a short one hides the
    whole word it sits in), and no message quotes a screenful of the file (shortened after
    redaction: no half secret is left)."""
    # a value is quoted back with repr(): a secret holding "\n" shows as "\\n"
    hidden = secrets | {repr(secret)[1:-1] for secret in secrets}
    return [
        ConfigProblem(p.field, _shorten(redact_words(p.message, hidden), MAX_MESSAGE), p.line)
        for p in problems
    ]


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        name = str(part)
        if not name or not name.isprintable() or name != name.strip():
            name = repr(name)  # a key can be any text: "\r", "" or a line break stay visible
        name = _shorten(name)  # and a whole screen of it
        out += f"[{part}]" if isinstance(part, int) else (f".{name}" if out else name)
    return out


# --- YAML with line numbers -------------------------------------------------------------


def read_yaml(text: str, source: str) -> tuple[Any, dict[Loc, int]]:
    """The data and the line of every key path (the web config file uses it too)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigError(source, [_yaml_problem(exc, text)]) from None
    except RecursionError:  # PyYAML's composer recurses once per level
        raise ConfigError(source, [_too_deep(None)]) from None
    if node is None:
        raise ConfigError(source, [ConfigProblem("", "the file is empty")])
    lines: dict[Loc, int] = {}
    index = _LineIndex(lines)
    try:
        duplicates = list(index.walk(node, ()))
    except _ShapeError as exc:
        raise ConfigError(source, [exc.problem]) from None
    if duplicates:
        raise ConfigError(source, duplicates)
    # only now: walking the nodes has shown the data is small, finite and not too deep
    loader = _Loader("")
    try:
        data = loader.construct_document(node)  # the nodes already parsed: no second parse
    except _BadScalar as exc:
        loc = index.nodes.get(id(exc.node))
        field = "" if loc is None else format_loc(loc)
        raise ConfigError(
            source, [ConfigProblem(field, exc.message, exc.node.start_mark.line + 1)]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, [_yaml_problem(exc, text)]) from None
    finally:
        loader.dispose()
    return data, lines


MAX_DEPTH = 40  # the deepest real config is 8 levels; deeper is a mistake or an attack
MAX_VALUES = 100_000  # aliases of aliases can make a small file expand to billions of values
MAX_NUMBER_DIGITS = 30  # no setting takes a longer number; Python refuses past 4300 digits


class _BadScalar(yaml.YAMLError):
    """A value PyYAML cannot build, or no setting could take; ``node`` locates it."""

    def __init__(self, node: yaml.Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, where every value it cannot build is a config problem (never
    an exception from deep inside PyYAML), numbers are no longer than a setting needs and
    finite, and a date is the text it was written as."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # any scalar PyYAML cannot build: 2001-02-30, !!bool maybe
            raise _BadScalar(node, _unbuildable(node, exc)) from None

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        # counted before int() parses it: Python refuses past 4300 digits with a ValueError
        body = str(node.value).lstrip("+-")
        body = body[2:] if body[:2] in ("0x", "0b") else body
        digits = len(body) - body.count("_") - body.count(":")
        if digits > MAX_NUMBER_DIGITS:
            raise _BadScalar(
                node, f"a number {digits} digits long is not a value any setting takes"
            )
        value: int = super().construct_yaml_int(node)
        return value

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        value: float = super().construct_yaml_float(node)
        if not math.isfinite(value):  # .inf, .nan, or 1.0e+400: a limit of "gt=0" lets it in
            raise _BadScalar(
                node,
                f"{_shorten(repr(node.value))} is not a finite number, and no setting takes "
                "one: write a number, or quote it if it is text",
            )
        return value


def _unbuildable(node: yaml.Node, exc: Exception) -> str:
    tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
    why = f": {first_line(str(exc))}" if isinstance(exc, ValueError) and str(exc) else ""
    return f"{_shorten(repr(node.value))} cannot be read as {tag}{why}"


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)
# No setting takes a date: "2001-02-30" or "2024-01-31" stays text (YAML 1.2 reads it so)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml_problem(exc: yaml.YAMLError, text: str) -> ConfigProblem:
    """PyYAML's complaint as one line, with the line it happened on."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        char = exc.character
        what = "a NUL byte" if char in ("\x00", 0) else f"the character {char!r}"
        return ConfigProblem("", f"not valid YAML: {what} is not allowed in a YAML file", line)
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    reason = getattr(exc, "problem", None) or str(exc)
    return ConfigProblem("", f"not valid YAML: {first_line(reason)}", line)


def _too_deep(line: int | None) -> ConfigProblem:
    return ConfigProblem(
        "", f"not valid config: lists or mappings nested more than {MAX_DEPTH} levels deep", line
    )


class _ShapeError(Exception):
    """The document cannot be a config whatever its keys: too deep, too big, or a loop."""

    def __init__(self, problem: ConfigProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _LineIndex:
    """Walks the node tree once: the line of every key path, duplicate keys, and the
    document's shape, checked before anything expands it."""

    def __init__(self, lines: dict[Loc, int]) -> None:
        self.lines = lines
        self.nodes: dict[int, Loc] = {}  # the key path of each node, for errors in its value
        self.values = 0
        self._path: set[int] = set()  # nodes on the way down: one seen again is a loop

    def walk(self, node: yaml.Node, loc: Loc) -> Iterator[ConfigProblem]:
        line = node.start_mark.line + 1
        self.values += 1
        if self.values > MAX_VALUES:
            raise _ShapeError(
                ConfigProblem(
                    "",
                    f"not valid config: the file expands to more than {MAX_VALUES} values "
                    "(aliases that repeat aliases?)",
                    line,
                )
            )
        if len(loc) > MAX_DEPTH:
            raise _ShapeError(_too_deep(line))
        if id(node) in self._path:
            raise _ShapeError(
                ConfigProblem("", "not valid config: an alias refers to itself", line)
            )
        self.lines.setdefault(loc, line)
        self.nodes.setdefault(id(node), loc)
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            return
        self._path.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = _key_text(key_node)
                if key in seen:
                    yield ConfigProblem(
                        format_loc((*loc, key)),
                        "this key appears twice",
                        key_node.start_mark.line + 1,
                    )
                seen.add(key)
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                self.nodes.setdefault(id(key_node), (*loc, key))
                yield from self.walk(value_node, (*loc, key))
        else:
            for i, item in enumerate(node.value):
                yield from self.walk(item, (*loc, i))
        self._path.discard(id(node))


def _key_text(node: yaml.Node) -> str:
    """A key as written; a list or mapping used as a key is refused when loaded."""
    return str(node.value) if isinstance(node, yaml.ScalarNode) else f"<{node.tag}>"


def line_of(loc: Loc, lines: Mapping[Loc, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


# --- ${ENV_VAR} references ---------------------------------------------------------------


def _substitute_env(
    value: Any,
    loc: Loc,
    environ: Mapping[str, str],
    lines: Mapping[Loc, int],
    problems: list[ConfigProblem],
    secrets: set[str],
) -> Any:
    if isinstance(value, dict):
        return {
            k: _substitute_env(v, (*loc, k), environ, lines, problems, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _substitute_env(v, (*loc, i), environ, lines, problems, secrets)
            for i, v in enumerate(value)
        ]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name not in environ:
            problems.append(
                ConfigProblem(
                    format_loc(loc),
                    f"refers to ${{{name}}}, but the environment variable {name} is not set",
                    line_of(loc, lines),
                )
            )
            return ""
        if environ[name]:
            secrets.add(environ[name])
        return environ[name]

    return ENV_REF.sub(replace, value)


def _nul_problems(value: Any, loc: Loc, lines: Mapping[Loc, int]) -> Iterator[ConfigProblem]:
    """No setting holds a NUL ("\\0" in a quoted YAML string): as a path it would crash the
    first file call, in a header or URL the first request."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _nul_problems(child, (*loc, key), lines)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _nul_problems(child, (*loc, i), lines)
    elif isinstance(value, str) and "\0" in value:
        yield ConfigProblem(
            format_loc(loc),
            "contains a NUL character (\\0), which no setting can hold",
            line_of(loc, lines),
        )


# --- storefront profiles that extend a built-in one -------------------------------------


def builtin_profiles() -> dict[str, dict[str, Any]]:
    """The profiles shipped with the package, by name, as plain data."""
    text = resources.files("checkout_monitor").joinpath(BUILTIN_PROFILES).read_text("utf-8")
    profiles: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return profiles


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _apply_extends(
    data: dict[str, Any], lines: Mapping[Loc, int], problems: list[ConfigProblem]
) -> None:
    storefronts = data.get("storefronts")
    if not isinstance(storefronts, dict):
        return
    available: dict[str, dict[str, Any]] | None = None
    for name, profile in storefronts.items():
        if not isinstance(profile, dict) or "extends" not in profile:
            continue
        available = available or builtin_profiles()
        parent = profile["extends"]
        loc: Loc = ("storefronts", name, "extends")
        if not isinstance(parent, str) or parent not in available:
            problems.append(
                ConfigProblem(
                    format_loc(loc),
                    f"no built-in profile named {_shorten(repr(parent))}; "
                    f"built in: {', '.join(available)}",
                    line_of(loc, lines),
                )
            )
            continue
        own = {k: v for k, v in profile.items() if k != "extends"}
        storefronts[name] = _deep_merge(available[parent], own)


# --- pydantic errors as one-line problems ------------------------------------------------


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
            and kind != HEADER_VALUE_ERROR  # often a token from ${ENV}: never quoted back
            and not _mentions(message, given)
        ):
            message += f" (got {_shorten(repr(given))})"
    if bad_key:
        loc = loc[:-1]
        message = f"the name {_shorten(repr(loc[-1]))} is not allowed: {message}"
    return ConfigProblem(format_loc(loc), message, line_of(loc, lines))  # shortened later


MAX_QUOTED = 80  # of a value quoted back: enough to recognise it, never a screenful
MAX_MESSAGE = 600


def _shorten(text: str, limit: int = MAX_QUOTED) -> str:
    return text if len(text) <= limit else f"{text[: limit - 15]}... ({len(text)} characters)"


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


# --- checks across fields ------------------------------------------------------------------


def _card_problems(config: Config, lines: Mapping[Loc, int]) -> Iterator[ConfigProblem]:
    """Only sandbox test cards may be typed, unless a storefront explicitly allows others."""
    for name, profile in config.storefronts.items():
        if profile.allow_real_cards:
            continue
        cards: list[tuple[Loc, str]] = [
            (("storefronts", name, "card", "number"), profile.card.number)
        ]
        cards += [
            (("storefronts", name, "payment", "declining_cards", label), number)
            for label, number in profile.payment.declining_cards.items()
        ]
        if profile.payment.three_d_secure is not None:
            three_ds: Loc = ("storefronts", name, "payment", "three_d_secure", "card")
            cards.append((three_ds, profile.payment.three_d_secure.card))
        for loc, number in cards:
            if looks_real(number):
                yield ConfigProblem(
                    format_loc(loc),
                    f"{mask_card(number)} is not a known sandbox test card; use your payment "
                    "provider's test cards (e.g. 4242424242424242), or set "
                    f"storefronts.{name}.allow_real_cards: true if you really mean it",
                    line_of(loc, lines),
                )


def _alerting_problems(config: Config, lines: Mapping[Loc, int]) -> Iterator[ConfigProblem]:
    """Rules name journeys and channels that exist, and each rule name once."""
    alerting = config.alerting
    journeys = [journey.display_name for journey in config.journeys]
    channels = sorted(alerting.channels)
    seen: set[str] = {MONITOR_HEALTH_RULE}
    for i, rule in enumerate(alerting.rules):
        base: Loc = ("alerting", "rules", i)
        if rule.name in seen:
            loc: Loc = (*base, "name")
            why = (
                "is the built-in monitor health rule"
                if rule.name == MONITOR_HEALTH_RULE
                else ("is used by another rule")
            )
            yield ConfigProblem(
                format_loc(loc), f"{rule.name!r} {why}; give it another name", line_of(loc, lines)
            )
        seen.add(rule.name)
        for j, pattern in enumerate(rule.journeys):
            if not fnmatch.filter(journeys, pattern):
                loc = (*base, "journeys", j)
                yield ConfigProblem(
                    format_loc(loc),
                    f"{pattern!r} matches no journey; journeys: {', '.join(journeys)}",
                    line_of(loc, lines),
                )
    routed: list[tuple[Loc, list[str] | None]] = [
        (("alerting", "rules", i), rule.channels) for i, rule in enumerate(alerting.rules)
    ]
    routed.append((("alerting", "monitor_unhealthy"), alerting.monitor_unhealthy.channels))
    for base, names in routed:
        for j, name in enumerate(names or []):
            if name not in alerting.channels:
                loc = (*base, "channels", j)
                defined = ", ".join(channels) or "none (add them under alerting.channels)"
                yield ConfigProblem(
                    format_loc(loc),
                    f"no channel named {name!r}; defined: {defined}",
                    line_of(loc, lines),
                )


def _proxy_problems(config: Config, lines: Mapping[Loc, int]) -> Iterator[ConfigProblem]:
    """Each context's proxy setting is what keeps the browser to the allowed hosts; a
    proxy flag would be silently overridden, so it is refused rather than ignored."""
    for i, arg in enumerate(config.browser.extra_args):
        flag = arg.split("=", 1)[0]
        if flag.startswith("--proxy") or flag == "--no-proxy-server":
            loc: Loc = ("browser", "extra_args", i)
            yield ConfigProblem(
                format_loc(loc),
                f"{flag} cannot be used: the browser's proxy setting is what keeps it to each "
                "storefront's allowed_hosts (an outbound proxy is not supported yet)",
                line_of(loc, lines),
            )


def _cross_reference_problems(config: Config, lines: Mapping[Loc, int]) -> Iterator[ConfigProblem]:
    yield from _card_problems(config, lines)
    yield from _proxy_problems(config, lines)
    yield from _alerting_problems(config, lines)
    seen: set[str] = set()
    for i, journey in enumerate(config.journeys):
        if journey.storefront not in config.storefronts:
            loc: Loc = ("journeys", i, "storefront")
            defined = ", ".join(sorted(config.storefronts))
            yield ConfigProblem(
                format_loc(loc),
                f"no storefront named {journey.storefront!r}; defined: {defined}",
                line_of(loc, lines),
            )
        if journey.display_name in seen:
            loc = ("journeys", i)
            yield ConfigProblem(
                format_loc(loc),
                f"a second journey named {journey.display_name!r}; give it a distinct 'name'",
                line_of(loc, lines),
            )
        seen.add(journey.display_name)
