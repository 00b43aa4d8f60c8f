"""The project's exceptions, in one place, carrying their context as attributes.

Exceptions are for bad input and bugs. A storefront that misbehaves is never an
exception that leaves the runner: it becomes a failed ``StepResult``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config file, located as precisely as we can."""

    field: str
    message: str
    line: int | None = None

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line else source
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class CheckoutMonitorError(Exception):
    """Base for errors that end a command with exit code 2 and a plain message."""


class ConfigError(CheckoutMonitorError):
    """A config file (or the built-in demo config) that cannot be used as it is."""

    def __init__(self, source: str | Path, problems: list[ConfigProblem]) -> None:
        self.source = str(source)
        self.problems = sorted(problems, key=lambda p: p.line or 0)  # in file order
        super().__init__(self.render())

    @property
    def field(self) -> str:
        return self.problems[0].field if self.problems else ""

    def render(self, limit: int = 15) -> str:
        lines = [p.render(self.source) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more problems")
        return "\n".join(lines)


class MonitorsError(CheckoutMonitorError):
    """A journey file in monitors/ that cannot be loaded, or a journey name that is unknown."""

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = str(path)
        self.message = message
        super().__init__(f"{path}: {message}")


class BrowserUnavailableError(CheckoutMonitorError):
    """No Chromium could be found or started; the monitor cannot run at all. ``lasting``:
    a browser server that refused the agent (a wrong path, a version mismatch), which will
    not pass by waiting, unlike a server that is down or restarting."""

    def __init__(self, message: str, *, lasting: bool = False) -> None:
        super().__init__(message)
        self.lasting = lasting


class UsageError(CheckoutMonitorError):
    """Command-line arguments that do not fit together."""
