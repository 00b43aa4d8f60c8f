"""``checkout-monitor validate``: a config, its journeys and its listener checked, nothing run."""

from __future__ import annotations

from pathlib import Path

from checkout_monitor.config.env_references import UnsetVariable
from checkout_monitor.config.loader import load_config
from checkout_monitor.config.web_config import listener_web_config
from checkout_monitor.run.monitors_loader import load_monitors
from checkout_monitor.run.plan import check_journeys_exist
from checkout_monitor.run.target import monitors_dir


def validate(
    config: Path, monitors: Path | None, web_config: Path | None, without_secrets: bool = False
) -> str:
    """One line saying what the config holds; a ``ConfigError`` or ``MonitorsError`` if bad.

    ``without_secrets``: a ``${ENV}`` reference to an unset variable is listed, one line
    each before that one, and the rest checked with a placeholder in its place (a field that
    no placeholder fits is a ``ConfigError``: it cannot be checked)."""
    unset: list[UnsetVariable] | None = [] if without_secrets else None
    loaded = load_config(config, unset=unset)
    registry = load_monitors(monitors_dir(monitors, loaded))
    unchecked = check_journeys_exist(loaded, registry, {ref.field for ref in unset or ()})
    web = listener_web_config(loaded, web_config)
    holds = loaded.config
    listed = "".join(
        f"{config}: {ref.field}: unset: ${{{ref.name}}} (checked with a placeholder"
        + ("; checks against other fields skipped" if ref.skipped or ref.field in unchecked else "")
        + ")\n"
        for ref in unset or ()
    )
    return listed + (
        f"{config}: OK: {len(holds.journeys)} journeys, "
        f"{len(holds.storefronts)} storefronts, location {holds.location}"
        + (f"; listener: {web.describe()} ({web.source})" if web else "")
    )
