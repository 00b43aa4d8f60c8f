"""``checkout-monitor validate``: a config, its journeys and its listener checked, nothing run."""

from __future__ import annotations

from pathlib import Path

from checkout_monitor.config.loader import load_config
from checkout_monitor.config.web_config import listener_web_config
from checkout_monitor.run.monitors_loader import load_monitors
from checkout_monitor.run.plan import check_journeys_exist
from checkout_monitor.run.target import monitors_dir


def validate(config: Path, monitors: Path | None, web_config: Path | None) -> str:
    """One line saying what the config holds; a ``ConfigError`` or ``MonitorsError`` if bad."""
    loaded = load_config(config)
    registry = load_monitors(monitors_dir(monitors, loaded))
    check_journeys_exist(loaded, registry)
    web = listener_web_config(loaded, web_config)
    holds = loaded.config
    return (
        f"{config}: OK: {len(holds.journeys)} journeys, "
        f"{len(holds.storefronts)} storefronts, location {holds.location}"
        + (f"; listener: {web.describe()} ({web.source})" if web else "")
    )
