"""Turn a YAML file into a validated ``Config``, or a ``ConfigError`` a person can act on.

Every problem names the file, the line where we know it, the field path and what would be
valid. Problems are collected, not raised one at a time, so one run shows them all. This
module is the pipeline; each stage it calls has its own module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from checkout_monitor.config.cross_checks import cross_field_problems, unknown_journey_names
from checkout_monitor.config.env_references import (
    Placeholders,
    UnsetVariable,
    substitute_env,
    unvalidated,
)
from checkout_monitor.config.file_reader import read_config_text
from checkout_monitor.config.locations import Loc, format_loc, line_of, shorten
from checkout_monitor.config.model import Config, LoadedConfig
from checkout_monitor.config.validation_messages import validation_problems
from checkout_monitor.config.yaml_reader import read_yaml
from checkout_monitor.errors import ConfigError, ConfigProblem
from checkout_monitor.evidence.redaction import redact_words

__all__ = ["builtin_profiles", "load_config", "parse_config", "read_config_text"]

BUILTIN_PROFILES = "builtin_profiles.yaml"
MAX_MESSAGE = 600


def load_config(
    path: str | Path,
    environ: Mapping[str, str] | None = None,
    unset: list[UnsetVariable] | None = None,
    defaultable: Callable[[str], bool] | None = None,
) -> LoadedConfig:
    """Read, substitute ${ENV_VAR}s, validate and cross-check one config file."""
    path = Path(path)
    text = read_config_text(path)
    return parse_config(text, str(path), path.resolve().parent, environ, unset, defaultable)


def parse_config(
    text: str,
    source: str,
    base_dir: Path,
    environ: Mapping[str, str] | None = None,
    unset: list[UnsetVariable] | None = None,
    defaultable: Callable[[str], bool] | None = None,
) -> LoadedConfig:
    """Validate config text; ``source`` is how errors name it (a path, or the demo config).

    With ``unset`` (``validate --without-secrets``), a reference to an unset variable is
    added there instead of being a problem, and a placeholder stands in for it; in a key
    ``defaultable`` accepts (a field the caller never reads: ``rules``), the key is left out
    instead where its default can stand in."""
    environ = os.environ if environ is None else environ
    raw, lines = read_yaml(text, source)
    if not isinstance(raw, dict):
        raise ConfigError(source, [ConfigProblem("", "expected a mapping of keys at the top")])
    placeholders = None if unset is None else Placeholders(defaultable=defaultable)
    while True:
        problems: list[ConfigProblem] = []
        secrets: set[str] = set()
        published: dict[Loc, set[str]] = {}  # hidden like secrets until they have validated
        if placeholders is not None:
            placeholders.new_pass()
        data = substitute_env(raw, (), environ, lines, problems, secrets, placeholders, published)
        problems += _nul_problems(data, (), lines)
        _apply_extends(data, lines, problems, placeholders.found if placeholders else {})
        if problems:
            hidden = {value for values in published.values() for value in values}
            raise ConfigError(source, _redacted(problems, secrets | hidden))
        try:
            config = Config.model_validate(data)
        except ValidationError as exc:
            # a placeholder this field refuses: the next one is tried (a few passes at most)
            if placeholders and placeholders.next_choice(tuple(e["loc"]) for e in exc.errors()):
                continue
            problems = validation_problems(exc, lines)
            if placeholders:
                problems = _unplaceable(exc, problems, placeholders, lines)
            hidden = unvalidated(published, (tuple(e["loc"]) for e in exc.errors()))
            raise ConfigError(source, _redacted(problems, secrets | hidden)) from None
        except RecursionError:
            raise ConfigError(source, [ConfigProblem("", "an alias refers to itself")]) from None
        break
    problems = list(cross_field_problems(config, lines, placeholders.found if placeholders else ()))
    skipped: set[Loc] = set()
    if placeholders:
        # a check against other fields would judge the placeholder: "no channel named 'unset'"
        skipped = {ref for p in problems if (ref := placeholders.holding_field(p.field))}
        skipped |= set(unknown_journey_names(config, placeholders.found).values())
        problems = [p for p in problems if placeholders.holding_field(p.field) is None]
    if problems:
        raise ConfigError(source, _redacted(problems, secrets))
    if unset is not None and placeholders is not None:
        unset += placeholders.unset(skipped)
    if config.browser.remote is not None:  # a token in the browser server's URL
        secrets.update(config.browser.remote.secrets)
    return LoadedConfig(config, source, base_dir, frozenset(secrets), lines)


def _unplaceable(
    exc: ValidationError,
    problems: list[ConfigProblem],
    placeholders: Placeholders,
    lines: Mapping[Loc, int],
) -> list[ConfigProblem]:
    """A field that refused every placeholder is named with its variable, once, instead of
    quoting the last placeholder tried back (``'true' is not a valid channel kind``)."""
    out: list[ConfigProblem] = []
    named: set[Loc] = set()
    for err, problem in zip(exc.errors(), problems, strict=True):  # one problem per error
        ref = placeholders.holding(tuple(err["loc"]))
        if ref is None:
            out.append(problem)
        elif ref not in named:
            named.add(ref)
            names = ", ".join(f"${{{name}}}" for name in dict.fromkeys(placeholders.found[ref]))
            out.append(
                ConfigProblem(
                    format_loc(ref),
                    f"could not be checked without {names}: no placeholder fits this field; "
                    "set the variable when validating",
                    line_of(ref, lines),
                )
            )
    return out


def _redacted(problems: list[ConfigProblem], secrets: set[str]) -> list[ConfigProblem]:
    """Values that came from ${ENV} never appear in an error message (a short one hides the
    whole word it sits in), and no message quotes a screenful of the file (shortened after
    redaction: no half secret is left)."""
    # a value is quoted back with repr(): a secret holding "\n" shows as "\\n"
    hidden = secrets | {repr(secret)[1:-1] for secret in secrets}
    return [
        ConfigProblem(p.field, shorten(redact_words(p.message, hidden), MAX_MESSAGE), p.line)
        for p in problems
    ]


# --- NUL characters ----------------------------------------------------------------------


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
    data: dict[str, Any],
    lines: Mapping[Loc, int],
    problems: list[ConfigProblem],
    unset: Collection[Loc] = (),
) -> None:
    """``unset``: fields holding an unset variable's placeholder; a storefront extending one
    extends the first built-in profile instead (``validate --without-secrets``)."""
    storefronts = data.get("storefronts")
    if not isinstance(storefronts, dict):
        return
    available: dict[str, dict[str, Any]] | None = None
    for name, profile in storefronts.items():
        if not isinstance(profile, dict) or "extends" not in profile:
            continue
        available = available or builtin_profiles()
        loc: Loc = ("storefronts", name, "extends")
        parent = next(iter(available)) if loc in unset else profile["extends"]
        if not isinstance(parent, str) or parent not in available:
            problems.append(
                ConfigProblem(
                    format_loc(loc),
                    f"no built-in profile named {shorten(repr(parent))}; "
                    f"built in: {', '.join(available)}",
                    line_of(loc, lines),
                )
            )
            continue
        own = {k: v for k, v in profile.items() if k != "extends"}
        storefronts[name] = _deep_merge(available[parent], own)
