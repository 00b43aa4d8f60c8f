"""The shape of the package, so a newcomer finds each thing in one obvious place and a
later move cannot quietly change what users rely on (issue 14)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path

import checkout_monitor
from checkout_monitor.run.monitors_loader import SOURCE_CHECKOUT_MONITORS
from support.cli_support import REPO

PACKAGE = REPO / "src" / "checkout_monitor"
# The root holds the public API (__init__) and the shared types it re-exports, nothing else.
ROOT_MODULES = {"__init__.py", "errors.py", "failure_kinds.py", "results.py", "step_failures.py"}
# Log lines show these names and users filter on them; they outlive module moves.
LOGGER_NAMES = {
    "checkout_monitor",
    "checkout_monitor.agent",
    "checkout_monitor.alerting.alert_store",
    "checkout_monitor.alerting.alerting",
    "checkout_monitor.alerting.dispatcher",
    "checkout_monitor.alerting.engine",
    "checkout_monitor.artifacts",
    "checkout_monitor.attempts",
    "checkout_monitor.browser_lifecycle",
    "checkout_monitor.evidence",
    "checkout_monitor.history",
    "checkout_monitor.last_passed",
    "checkout_monitor.navigation",
    "checkout_monitor.status_server",
}
# A cli/ module turns arguments into a call: the standard library and our own code only.
CLI_MAY_IMPORT = {
    "argparse",
    "sys",
    "asyncio",
    "logging",
    "functools",
    "importlib",
    "typing",
    "enum",
}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def test_the_root_holds_only_the_public_api_and_shared_types() -> None:
    assert {p.name for p in PACKAGE.glob("*.py")} == ROOT_MODULES
    public = {getattr(checkout_monitor, n).__module__ for n in checkout_monitor._HOMES}
    for name in ROOT_MODULES - {"__init__.py"}:
        module = f"checkout_monitor.{name.removesuffix('.py')}"
        re_exported = module in public or any(
            getattr(import_module(module), n, None) is getattr(checkout_monitor, n)
            for n in checkout_monitor._HOMES
        )
        assert re_exported, f"{name} sits at the root but nothing in it is public"


def test_every_module_says_why_it_exists() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert ast.get_docstring(_tree(path)), f"{path.relative_to(REPO)} has no docstring"


def test_cli_modules_hold_no_business_logic() -> None:
    """Only stdlib plumbing and our own calls; no classes, no coroutines, short functions."""
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        tree = _tree(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
                for name in names:
                    top = name.split(".")[0]
                    # the standard library's plumbing and our own calls; no third-party work
                    assert top == "checkout_monitor" or top in sys.stdlib_module_names, (
                        f"{path.name} imports {name}"
                    )
            is_enum = isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id == "IntEnum" for base in node.bases
            )  # exit codes: a table of constants
            assert is_enum or not isinstance(node, ast.ClassDef | ast.AsyncFunctionDef), (
                f"{path.name}:{node.lineno} defines {type(node).__name__}"
            )
            if isinstance(node, ast.FunctionDef) and path.name != "parsers.py":
                length = (node.end_lineno or node.lineno) - node.lineno
                assert length <= 45, f"{path.name}: {node.name} is {length} lines"


def _importers_of(package: str) -> set[str]:
    """The top-level parts of the package (or "root") whose modules import ``package``."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        where = parts[0] if len(parts) > 1 else "root"
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                f"checkout_monitor.{package}"
            ):
                found.add(where)
    return found - {package}


def test_imports_flow_from_the_commands_down() -> None:
    """The engine never reaches up into a command or the agent that runs it."""
    assert _importers_of("cli") == set()
    assert _importers_of("agent") == {"cli"}
    assert _importers_of("run") <= {"cli", "agent", "root"}


def test_the_entry_points_and_package_data_stay_where_installs_expect() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {
        "checkout-monitor": "checkout_monitor.cli:main",
        "run-smoke": "checkout_monitor.cli:run_smoke_main",
    }
    for target in scripts.values():
        module, _, function = target.partition(":")
        assert callable(getattr(import_module(module), function))
    for data in ("builtin_profiles.yaml", "demo_config.yaml"):
        assert (PACKAGE / data).is_file(), data


def test_the_bundled_monitors_are_found_from_the_source_tree() -> None:
    assert SOURCE_CHECKOUT_MONITORS == REPO / "monitors"


def test_logger_names_outlive_module_moves() -> None:
    """Every logger is named by a fixed string (or is the standalone demo shop's own)."""
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "demo_shop" not in path.parts:
            assert "getLogger(__name__)" not in text, f"{path.name}: a name a move would change"
        names.update(re.findall(r'getLogger\("(checkout_monitor[\w.]*)"\)', text))
    assert names == LOGGER_NAMES


def test_python_dash_m_still_runs_the_command_line() -> None:
    """`python -m checkout_monitor.cli` worked when cli was one module; it still does."""
    result = subprocess.run(
        [sys.executable, "-m", "checkout_monitor.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("checkout-monitor ")
