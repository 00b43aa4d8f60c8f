"""A package's public names, each imported from its module on first use (PEP 562).

The root API, the run history and the demo shop export names whose modules are heavy
(Playwright, sqlite3, Flask): importing the package for one light name must not load them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_getattr(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """The module ``__getattr__`` for ``package``: ``homes`` maps a name to its module
    (absolute, or relative to ``package`` with a leading '.'); a name once imported is kept
    in ``namespace`` (the package's globals), so later lookups skip this function."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home, package), name)
        namespace[name] = value
        return value

    return __getattr__
