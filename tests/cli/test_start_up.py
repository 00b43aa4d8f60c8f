"""Each command imports only what it uses: `run-smoke --config` against a real shop never
loads the alerting package, the demo shop or Flask (issue 15). Not timed: the imports are
read from ``sys.modules`` in the process that ran the command."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from checkout_monitor.browser.process_stats import read_tree
from checkout_monitor.cli import run_smoke_main
from checkout_monitor.demo_shop import DemoShop
from support.cli_support import EXAMPLE_ENV, REPO, write_shop_config

# modules that only `serve`, `--demo`, `--pushgateway` or `--history` need
NEVER_FOR_A_SHOP = (
    "checkout_monitor.alerting",
    "checkout_monitor.demo_shop",
    "checkout_monitor.history",
    "flask",
    "werkzeug",
)
# ...except the demo shop's name tables, which the parsers offer as --theme/--fault choices
NAME_TABLES = {
    "checkout_monitor.demo_shop",  # its __init__ loads names on first use
    "checkout_monitor.demo_shop.faults",
    "checkout_monitor.demo_shop.payment_modes",
    "checkout_monitor.demo_shop.themes",
}


def _modules_after(argv: list[str], tmp_path: Path) -> tuple[int, set[str], str]:
    """Run a command in a fresh interpreter as the entry point does; what it imported."""
    record = tmp_path / "modules.json"
    code = (
        "import atexit, json, sys\n"
        f"out = open({str(record)!r}, 'w')\n"
        "atexit.register(lambda: out.write(json.dumps(sorted(sys.modules))))\n"
        "from checkout_monitor.cli import main\n"
        f"sys.exit(main({argv!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    return result.returncode, set(json.loads(record.read_text())), result.stdout + result.stderr


def _loaded(modules: set[str], prefix: str) -> list[str]:
    found = (m for m in modules if m == prefix or m.startswith(prefix + "."))
    return sorted(set(found) - NAME_TABLES)


@pytest.mark.browser
def test_run_smoke_against_a_shop_imports_no_alerting_demo_shop_or_flask(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    config = write_shop_config(tmp_path / "config.yaml", start_shop())
    code, modules, output = _modules_after(
        ["smoke", "--config", str(config), "--journey", "product-to-checkout"], tmp_path
    )
    assert code == 0, output
    assert "checkout_monitor.run.runner" in modules  # it did run the journey
    for prefix in NEVER_FOR_A_SHOP:
        assert not _loaded(modules, prefix), f"run-smoke --config imported {prefix}"


def test_validate_imports_no_alerting_demo_shop_or_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(name, value)
    code, modules, output = _modules_after(
        ["validate", str(REPO / "config.example.yaml")], tmp_path
    )
    assert code == 0, output
    # nor any browser code: the shipped journeys name the page object for the type checker
    # only, and a step's failure is classified without Playwright loaded
    for prefix in (*NEVER_FOR_A_SHOP, "playwright", "checkout_monitor.browser.early_start"):
        assert not _loaded(modules, prefix), f"validate imported {prefix}"


def test_schema_imports_no_alerting_demo_shop_or_browser(tmp_path: Path) -> None:
    code, modules, output = _modules_after(["schema"], tmp_path)
    assert code == 0, output
    assert "checkout_monitor.config.json_schema" in modules  # it did write the schema
    for prefix in (*NEVER_FOR_A_SHOP, "playwright", "checkout_monitor.run"):
        assert not _loaded(modules, prefix), f"schema imported {prefix}"


def test_version_imports_no_engine(tmp_path: Path) -> None:
    code, modules, output = _modules_after(["--version"], tmp_path)
    assert code == 0, output
    for prefix in ("playwright", "pydantic", "yaml", "rich", *NEVER_FOR_A_SHOP):
        assert not _loaded(modules, prefix), f"--version imported {prefix}"


@pytest.mark.browser
def test_a_usage_error_after_the_early_start_leaves_no_driver_behind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The driver starts before the command checks its arguments; it is stopped anyway."""
    before = set(read_tree(os.getpid()))
    assert run_smoke_main(["--fault", "slow-product-page"]) == 2
    assert "--fault only works with --demo" in capsys.readouterr().err
    deadline = time.monotonic() + 10
    while (left := set(read_tree(os.getpid())) - before) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == set()


def test_as_a_program_a_command_skips_the_collectors_last_pass(tmp_path: Path) -> None:
    """Run from the command line (``argv`` None), the process ends next: the collector's
    last walk over every object (about 55 ms after a run) is skipped by freezing them."""
    program = (
        "import gc, sys\n"
        "from checkout_monitor.cli import run_smoke_main\n"
        "sys.argv = ['run-smoke', '--demo', '--list']\n"
        "code = run_smoke_main()\n"
        "print(code, gc.get_freeze_count() > 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.stdout.split()[-2:] == ["0", "True"], result.stdout + result.stderr


def test_called_from_python_a_command_leaves_the_callers_collector_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    gc.unfreeze()
    assert run_smoke_main(["--demo", "--list"]) == 0
    assert "product-to-checkout" in capsys.readouterr().out
    assert gc.get_freeze_count() == 0
