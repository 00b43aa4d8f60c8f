"""Which Chromium to start and with which flags: light enough to import before the config."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from checkout_monitor.errors import BrowserUnavailableError

# Flags for closed networks: without them Chromium keeps trying to reach Google's hosts.
LAUNCH_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
EXECUTABLE_ENV = "CHECKOUT_MONITOR_CHROMIUM"
_KNOWN_NAMES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")


def find_chromium(configured: str | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """Config, then $CHECKOUT_MONITOR_CHROMIUM, then a system Chromium; None means
    Playwright's own download."""
    for candidate in (configured, environ.get(EXECUTABLE_ENV)):
        if candidate:
            if not Path(candidate).is_file():
                raise BrowserUnavailableError(
                    f"the browser executable {candidate!r} does not exist; fix browser.executable "
                    f"or ${EXECUTABLE_ENV}, or remove it to use a system Chromium"
                )
            return candidate
    for name in _KNOWN_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None
