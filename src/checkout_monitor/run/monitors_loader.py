"""Find the journeys in a monitors/ folder: plain Python files users copy and edit."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

from checkout_monitor.errors import MonitorsError
from checkout_monitor.run.journey import MARKER, JourneyDefinition

SOURCE_CHECKOUT_MONITORS = Path(__file__).resolve().parents[3] / "monitors"


def default_monitors_dir(cwd: Path | None = None) -> Path:
    """./monitors where the command runs, else the one beside this source checkout."""
    here = (cwd or Path.cwd()) / "monitors"
    return here if here.is_dir() else SOURCE_CHECKOUT_MONITORS


def load_monitors(directory: Path) -> dict[str, JourneyDefinition]:
    """Import every ``*.py`` in ``directory`` and collect its ``@journey`` functions by name."""
    if not directory.is_dir():
        raise MonitorsError(directory, "no such monitors folder (set monitors_dir in the config)")
    registry: dict[str, JourneyDefinition] = {}
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        for definition in _journeys_in(path):
            if definition.name in registry:
                other = registry[definition.name].source
                raise MonitorsError(path, f"journey {definition.name!r} is also defined in {other}")
            registry[definition.name] = definition
    if not registry:
        raise MonitorsError(directory, "contains no journeys (functions decorated with @journey)")
    return registry


def _journeys_in(path: Path) -> list[JourneyDefinition]:
    module_name = f"checkout_monitor_monitors.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise MonitorsError(path, "cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        line = _error_line(exc, path)
        raise MonitorsError(
            f"{path}:{line}" if line else path, f"failed to load: {type(exc).__name__}: {exc}"
        ) from None
    found = []
    for value in vars(module).values():
        definition = getattr(value, MARKER, None)
        if isinstance(definition, JourneyDefinition):
            found.append(replace(definition, source=path))
    return found


def _error_line(exc: BaseException, path: Path) -> int | None:
    if isinstance(exc, SyntaxError):
        return exc.lineno
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
