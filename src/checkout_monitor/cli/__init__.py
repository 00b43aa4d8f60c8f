"""The command line: ``checkout-monitor COMMAND`` and ``run-smoke``.

Commands: ``smoke`` (the same as ``run-smoke``), ``validate``, ``serve``, ``rules``,
``schema``, ``images baseline`` and ``demo-shop``. Each lives in its own module here and only turns
arguments into a call to the engine; a command's module is imported only when it runs.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import TYPE_CHECKING, cast

from checkout_monitor.cli.parsers import main_parser, smoke_parser

if TYPE_CHECKING:
    from checkout_monitor.cli.guard import Command

# command -> its module under checkout_monitor.cli, whose ``command`` function runs it
COMMANDS = {
    "smoke": "smoke",
    "validate": "validate",
    "serve": "serve",
    "rules": "rules",
    "schema": "schema",
    "images": "images",
    "demo-shop": "demo_shop",
}


def _command(name: str) -> Command:
    return cast("Command", import_module(f"checkout_monitor.cli.{COMMANDS[name]}").command)


def main(argv: Sequence[str] | None = None) -> int:
    args = main_parser().parse_args(argv)
    return _exiting(_run("checkout-monitor", args.command, args), argv)


def run_smoke_main(argv: Sequence[str] | None = None) -> int:
    args = smoke_parser("run-smoke").parse_args(argv)
    return _exiting(_run("run-smoke", "smoke", args), argv)


def _exiting(code: int, argv: Sequence[str] | None) -> int:
    """Run as the program (``argv`` from the command line), the process ends next: the
    garbage collector's last pass over every object, some 55 ms after a run, is skipped.
    Files and the browser are closed by then; nothing left needs a finalizer."""
    if argv is None:
        gc.freeze()
    return code


def _run(prog: str, name: str, args: argparse.Namespace) -> int:
    args.driver = None
    if name != "smoke" or args.list:  # --list needs no browser
        return _guarded(prog, name, args)
    # A smoke run starts the browser first, before anything else is imported, so it comes up
    # while the command's modules load and the config is read (browser/early_start.py); it
    # is stopped here, however the command ends, usage errors before the run included.
    from checkout_monitor.browser.early_start import EarlyPlaywright  # noqa: PLC0415 (asyncio)

    with EarlyPlaywright() as args.driver:
        return _guarded(prog, name, args)


def _guarded(prog: str, name: str, args: argparse.Namespace) -> int:
    from checkout_monitor.cli.guard import guarded  # noqa: PLC0415 (after the early start)

    return guarded(prog, _command(name), args)


if __name__ == "__main__":
    sys.exit(main())
