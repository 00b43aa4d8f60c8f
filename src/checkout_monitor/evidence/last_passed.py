"""When each journey last passed on this machine, so a failure can say "it worked at 14:02".

Kept as one small JSON file in the artifacts folder; a missing or unreadable file only
means the answer is "not known".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from checkout_monitor.reports.atomic_files import write_json
from checkout_monitor.results import JourneyResult

log = logging.getLogger("checkout_monitor.last_passed")  # the name logs and filters know
FILE_NAME = "last-passed.json"


class LastPassed:
    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME

    def load(self) -> dict[str, datetime]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {name: datetime.fromisoformat(when) for name, when in data.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("cannot read %s (%s); last passes are not known", self.path, exc)
            return {}

    def record(self, results: Sequence[JourneyResult]) -> None:
        known = self.load()
        for result in results:
            if result.passed:  # a journey that skipped every step checked nothing
                known[result.name] = result.started_at + timedelta(seconds=result.duration_seconds)
        try:
            write_json(self.path, {name: when.isoformat() for name, when in known.items()})
        except OSError as exc:
            log.warning("cannot write %s: %s", self.path, exc)
