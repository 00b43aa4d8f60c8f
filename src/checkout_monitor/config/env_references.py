"""``${ENV_VAR}`` references in config values: substituted before the models validate.

``validate --without-secrets`` lints a config in CI, where the secrets are not set: an
unset variable is then listed, not refused, and a placeholder stands in so the rest of the
config is still checked. No single placeholder passes every field (a URL, a port, a
token), so the loader tries them in turn on the fields that refuse one (``next_choice``).

``rules`` goes further for the fields it never reads (``defaultable``): the key holding an
unset reference is left out, so its default stands in where no placeholder would fit (an
address to listen on, a size in MiB); a key that turns out to be required gets its
placeholders after all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from checkout_monitor.config.locations import Loc, format_loc, line_of
from checkout_monitor.errors import ConfigProblem

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# tried in this order on a field holding an unset reference: text, a URL, a number (a port),
# a duration, a boolean; none of them is a secret, and none looks like a card number
PLACEHOLDERS = ("unset", "https://unset.invalid", "1", "60s", "true")
# Fields every metric series and report publishes (``location`` is a label on each): a value
# from the environment there is how one config is run in several places, not a secret, and
# redacting it would blank the location out of every report and message. Only once it has
# validated, though: one that fails may be a secret from the wrong variable
# (``location: ${SHOP_API_KEY}``), so an error about it hides it like any other.
PUBLISHED_FIELDS: frozenset[Loc] = frozenset({("location",)})


@dataclass(frozen=True)
class UnsetVariable:
    """A ``${NAME}`` reference whose variable is not set, and the field that holds it;
    ``skipped``: a check comparing the field with others was left out (it would have
    compared the placeholder: ``no channel named 'unset'``)."""

    field: str
    name: str
    skipped: bool = False


@dataclass
class Placeholders:
    """Which placeholder stands in at each field holding an unset reference; or, for a key
    ``defaultable`` accepts (a field as messages write it), none: the key is left out."""

    choice: dict[Loc, int] = field(default_factory=dict)
    found: dict[Loc, list[str]] = field(default_factory=dict)  # this pass: field -> names
    defaultable: Callable[[str], bool] | None = None
    kept: set[Loc] = field(default_factory=set)  # keys left out once, that validation needs
    dropped: set[Loc] = field(default_factory=set)  # this pass: keys left out

    def new_pass(self) -> None:
        self.found.clear()
        self.dropped.clear()

    def drops(self, key: Loc) -> bool:
        """Whether the key ``key`` of a mapping, just substituted, is left out: it holds an
        unset reference (itself, or in a list it holds), and its default may stand in."""
        if self.defaultable is None or key in self.kept or not self.defaultable(format_loc(key)):
            return False
        if not any(_key_of(ref) == key for ref in self.found):
            return False
        self.dropped.add(key)
        return True

    def value(self, loc: Loc, name: str) -> str:
        self.found.setdefault(loc, []).append(name)
        return PLACEHOLDERS[self.choice.get(loc, 0)]

    def next_choice(self, error_locs: Iterable[Loc]) -> bool:
        """The next placeholder for each field holding one that an error names (at the field
        or below it: a union's branch); False when no field has another to try. A key left
        out that an error concerns (it is required, or a check of the mapping holding it
        failed) is kept from now on; so is every key left out when an error names no field
        holding a placeholder: it is then reported as it would be with none left out."""
        error_locs = list(error_locs)
        related = {
            key
            for key in self.dropped
            for err in error_locs
            if err[: len(key)] == key or key[: len(err)] == err
        }
        self.kept |= related
        if self.dropped and any(self.holding(err) is None for err in error_locs):
            self.kept |= self.dropped
            return True
        moved = bool(related)
        for loc in {ref for err in error_locs for ref in self.found if err[: len(ref)] == ref}:
            if self.choice.get(loc, 0) + 1 < len(PLACEHOLDERS):
                self.choice[loc] = self.choice.get(loc, 0) + 1
                moved = True
        return moved

    def holding(self, loc: Loc) -> Loc | None:
        """The field holding a placeholder at or above ``loc``, if any."""
        return next((ref for ref in self.found if loc[: len(ref)] == ref), None)

    def holding_field(self, field: str) -> Loc | None:
        """``holding`` for a field as messages write it (``alerting.rules[0].channels[0]``)."""
        for ref in self.found:
            text = format_loc(ref)
            if field == text or field.startswith((f"{text}.", f"{text}[")):
                return ref
        return None

    def unset(self, skipped: Collection[Loc] = ()) -> list[UnsetVariable]:
        return [
            UnsetVariable(format_loc(loc), name, loc in skipped)
            for loc, names in self.found.items()
            for name in dict.fromkeys(names)
        ]


def unvalidated(published: Mapping[Loc, set[str]], error_locs: Iterable[Loc]) -> set[str]:
    """The values from ``published`` fields that an error names (at the field or below it):
    hidden in the messages, as they may be secrets. A valid one is not hidden: a short
    location (``eu``) would blank every word it is part of (``queue``)."""
    locs = list(error_locs)
    return {
        value
        for field, values in published.items()
        if any(err[: len(field)] == field for err in locs)
        for value in values
    }


def _key_of(ref: Loc) -> Loc:
    """The mapping key holding the field ``ref``: itself, or the list it is an item of (a
    list's items are never left out one by one: the indexes after them would shift)."""
    while ref and isinstance(ref[-1], int):
        ref = ref[:-1]
    return ref


def substitute_env(
    value: Any,
    loc: Loc,
    environ: Mapping[str, str],
    lines: Mapping[Loc, int],
    problems: list[ConfigProblem],
    secrets: set[str],
    placeholders: Placeholders | None = None,
    published: dict[Loc, set[str]] | None = None,
) -> Any:
    """``value`` with every reference replaced; an unset variable is a problem, or with
    ``placeholders`` a placeholder; every value substituted is added to ``secrets``, except
    in the ``PUBLISHED_FIELDS``: to ``published`` there, by field (each still a secret until
    it has validated: ``unvalidated``)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            new = substitute_env(
                v, (*loc, k), environ, lines, problems, secrets, placeholders, published
            )
            if placeholders is None or not placeholders.drops((*loc, k)):
                out[k] = new
        return out
    if isinstance(value, list):
        return [
            substitute_env(v, (*loc, i), environ, lines, problems, secrets, placeholders, published)
            for i, v in enumerate(value)
        ]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name = match[1]
        if name not in environ:
            if placeholders is not None:
                return placeholders.value(loc, name)
            problems.append(
                ConfigProblem(
                    format_loc(loc),
                    f"refers to ${{{name}}}, but the environment variable {name} is not set",
                    line_of(loc, lines),
                )
            )
            return ""
        if environ[name]:
            if loc not in PUBLISHED_FIELDS:
                secrets.add(environ[name])
            elif published is not None:
                published.setdefault(loc, set()).add(environ[name])
        return environ[name]

    return ENV_REF.sub(replace, value)
