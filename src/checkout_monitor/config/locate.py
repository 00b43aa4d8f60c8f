"""Which config file a command reads when none is named: light enough for the parsers."""

from __future__ import annotations

import os
from pathlib import Path

from checkout_monitor.errors import UsageError

CONFIG_ENV = "CHECKOUT_MONITOR_CONFIG"


def config_path(given: Path | None) -> Path:
    """``--config``, else ``$CHECKOUT_MONITOR_CONFIG``, else ``./config.yaml``."""
    if given is not None:
        return given
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    default = Path("config.yaml")
    if default.is_file():
        return default
    raise UsageError(
        "no config given: use --config PATH (or set $CHECKOUT_MONITOR_CONFIG), "
        "or --demo to try the embedded demo shop"
    )
