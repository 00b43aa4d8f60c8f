"""``RunInfo``: what every report writer needs to know about the run besides its results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from checkout_monitor.evidence.redaction import MARKUP_SAFE, redact


@dataclass(frozen=True)
class RunInfo:
    """One run of ``run-smoke``, so each report names the deploy it checked and where."""

    started_at: datetime
    wall_seconds: float
    release: str | None  # ``run-smoke --release VERSION``: the deploy this run checked
    location: str
    header: str  # the line the console printed first: version, config or demo shop
    # Where evidence paths that are not absolute start from; None: the current folder.
    artifacts_dir: Path | None = None
    # Values from ${ENV} in the config: scrubbed from every report as it is written.
    secrets: frozenset[str] = frozenset()

    def scrubbed(self, text: str) -> str:
        return redact(text, self.secrets, MARKUP_SAFE)

    def evidence_path(self, path: str) -> Path:
        """An evidence path as an absolute path, whether or not the file is still there."""
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = (self.artifacts_dir or Path.cwd()) / candidate
        return candidate.absolute()
