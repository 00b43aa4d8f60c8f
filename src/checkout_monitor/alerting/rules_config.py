"""The config as ``checkout-monitor rules`` reads it: a variable only the agents need may be
unset where the rules are written.

One config run from several locations takes its ``location`` (and often the shop's tokens)
from each agent's environment; the rules are written once, in CI or on the Prometheus
host, where none of those are set, and never read them. A variable in a field the rules do
read (a journey, the defaults, the alert rules) must still be set: its value is in them.

A field the rules never read that holds an unset variable is left out, so its default
stands in (no placeholder fits every field: ``agent.listen``, ``browser.recycle_above_mib``);
one without a default (a shop's ``base_url``, a channel's URL) gets a placeholder.
"""

from __future__ import annotations

from pathlib import Path

from checkout_monitor.config.env_references import UnsetVariable
from checkout_monitor.config.loader import load_config
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.errors import ConfigError

# Fields nothing in the rules comes from: the rule-relevant fields are all the others. Listed
# this way round so that a field added later is read (and its variable required) until
# someone adds it here.
NOT_IN_RULES = (
    "location",
    "monitors_dir",
    "browser",
    "synthetic",
    "agent",
    "storefronts",
    "artifacts",
    "history",
    "alerting.state_dir",
    "alerting.external_url",
    "alerting.channels",
    "alerting.delivery",
)


def load_rules_config(path: Path) -> LoadedConfig:
    """``path`` loaded with a placeholder for each unset variable the rules do not read; a
    ``ConfigError`` naming the unset variables they do read, as ``load_config`` names them."""
    unset: list[UnsetVariable] = []
    loaded = load_config(path, unset=unset, defaultable=_not_in_rules)
    ignored = {ref.field for ref in unset if _not_in_rules(ref.field)}
    if all(ref.field in ignored for ref in unset):
        return loaded
    try:
        return load_config(path)  # raises: a variable the rules need is unset
    except ConfigError as error:
        needed = [problem for problem in error.problems if problem.field not in ignored]
        raise ConfigError(error.source, needed or error.problems) from None


def _not_in_rules(field: str) -> bool:
    return any(
        field == prefix or field.startswith((f"{prefix}.", f"{prefix}[")) for prefix in NOT_IN_RULES
    )
