"""YAML read with the line of every key path, so each later problem can name its line.

PyYAML's node tree is walked once, for lines, duplicate keys and the document's shape,
before anything is built from it: aliases of aliases or deep nesting are refused as config
problems instead of exhausting memory or the stack.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import yaml

from checkout_monitor.config.locations import Loc, format_loc, shorten
from checkout_monitor.errors import ConfigError, ConfigProblem
from checkout_monitor.text.quoting import first_line


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
                f"{shorten(repr(node.value))} is not a finite number, and no setting takes "
                "one: write a number, or quote it if it is text",
            )
        return value


def _unbuildable(node: yaml.Node, exc: Exception) -> str:
    tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
    why = f": {first_line(str(exc))}" if isinstance(exc, ValueError) and str(exc) else ""
    return f"{shorten(repr(node.value))} cannot be read as {tag}{why}"


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
