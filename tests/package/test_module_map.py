"""CONTRIBUTING.md's module map is made from the code and fails the suite when stale."""

from __future__ import annotations

from support import module_map


def test_the_module_map_matches_the_code() -> None:
    """Every module of the package, in path order, with its docstring's first paragraph."""
    written = module_map.current(module_map.CONTRIBUTING.read_text(encoding="utf-8"))
    assert written == module_map.render(), (
        "CONTRIBUTING.md's module map is stale: run python tests/support/module_map.py --write"
    )
