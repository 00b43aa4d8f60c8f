"""The public API: ``from checkout_monitor import ...`` is all a journey file needs.

Locust re-exports its authoring API from the package root so user files survive internal
moves; so do we, and these tests hold the line.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import checkout_monitor
from support.cli_support import REPO

SHIPPED_JOURNEYS = sorted((REPO / "monitors").glob("*.py"))


def test_every_public_name_resolves_to_what_its_home_defines() -> None:
    """``__all__`` and the lazy table agree, and each name is the engine's own object."""
    assert set(checkout_monitor.__all__) == {*checkout_monitor._HOMES, "__version__"}
    for name in checkout_monitor._HOMES:
        value = getattr(checkout_monitor, name)
        home = sys.modules[checkout_monitor._HOMES[name]]
        assert value is getattr(home, name), name
    assert set(checkout_monitor.__all__) <= set(dir(checkout_monitor))


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        checkout_monitor.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_shipped_journeys_import_only_the_public_api() -> None:
    """What users copy must not hold an engine path that a later move would break."""
    assert SHIPPED_JOURNEYS
    for path in SHIPPED_JOURNEYS:
        ours = {m for m in _imports(path) if m.split(".")[0] == "checkout_monitor"}
        assert ours == {"checkout_monitor"}, f"{path.name} imports {sorted(ours)}"


def test_shipped_journeys_load_without_deprecation_warnings() -> None:
    """Loading the bundled monitors under -W error raises if any old path is used."""
    code = (
        "from pathlib import Path\n"
        "from checkout_monitor.run.monitors_loader import load_monitors\n"
        f"print(sorted(load_monitors(Path({str(REPO / 'monitors')!r}))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "product-to-checkout" in result.stdout


def test_importing_the_package_does_not_load_the_engine() -> None:
    """Public names load on first use: `import checkout_monitor` stays cheap for the CLI."""
    code = (
        "import sys, checkout_monitor\n"
        "heavy = [m for m in ('playwright', 'pydantic', 'checkout_monitor.shop.storefront') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
