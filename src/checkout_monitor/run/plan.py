"""Which journeys a run executes: config entries matched to journey code and a profile."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from checkout_monitor.config.locations import format_loc, line_of
from checkout_monitor.config.model import JourneyConfig, LoadedConfig
from checkout_monitor.config.storefront_profile import StorefrontProfile
from checkout_monitor.errors import ConfigError, ConfigProblem, UsageError
from checkout_monitor.run.journey import JourneyDefinition


@dataclass(frozen=True)
class PlannedJourney:
    config: JourneyConfig
    definition: JourneyDefinition
    storefront: str
    profile: StorefrontProfile
    step_timeout: float
    journey_timeout: float
    navigation_retries: int
    base_dir: Path
    interval: float = 300.0
    retries: int = 0

    @property
    def name(self) -> str:
        return self.config.display_name


def check_journeys_exist(
    loaded: LoadedConfig,
    registry: Mapping[str, JourneyDefinition],
    placeholders: Collection[str] = (),
) -> set[str]:
    """Every ``journeys[i].journey`` must name a journey found in monitors/; one of the
    ``placeholders`` (fields, as written, holding an unset variable's) is not checked, and
    is returned."""
    problems = []
    unchecked: set[str] = set()
    for i, entry in enumerate(loaded.config.journeys):
        loc = ("journeys", i, "journey")
        if format_loc(loc) in placeholders:
            unchecked.add(format_loc(loc))
        elif entry.journey not in registry:
            problems.append(
                ConfigProblem(
                    format_loc(loc),
                    f"no journey named {entry.journey!r} in monitors/; "
                    f"available: {', '.join(sorted(registry))}",
                    line_of(loc, loaded.lines),
                )
            )
    if problems:
        raise ConfigError(loaded.source, problems)
    return unchecked


def plan_journeys(
    loaded: LoadedConfig,
    registry: Mapping[str, JourneyDefinition],
    selected: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> list[PlannedJourney]:
    """The journeys to run: the ``selected`` names, or every enabled one; with ``tags``,
    only those carrying any of them."""
    check_journeys_exist(loaded, registry)
    config = loaded.config
    by_name = {entry.display_name: entry for entry in config.journeys}
    unknown = [name for name in selected if name not in by_name]
    if unknown:
        raise UsageError(
            f"no journey named {', '.join(map(repr, unknown))} in {loaded.source}; "
            f"configured: {', '.join(by_name)}"
        )
    entries = (
        [by_name[name] for name in dict.fromkeys(selected)]
        if selected
        else [entry for entry in config.journeys if entry.enabled]
    )
    if tags:
        known = sorted({tag for entry in config.journeys for tag in entry.tags})
        entries = [entry for entry in entries if set(tags) & set(entry.tags)]
        if not entries:
            raise UsageError(
                f"no journey to run has the tag {', '.join(map(repr, tags))}; "
                f"tags in {loaded.source}: {', '.join(known) or 'none'}"
            )
    return [
        PlannedJourney(
            config=entry,
            definition=registry[entry.journey],
            storefront=entry.storefront,
            profile=config.storefronts[entry.storefront],
            step_timeout=loaded.step_timeout(entry),
            journey_timeout=loaded.journey_timeout(entry),
            navigation_retries=config.defaults.navigation_retries,
            base_dir=loaded.base_dir,
            interval=loaded.interval(entry),
            retries=loaded.retries(entry),
        )
        for entry in entries
    ]
