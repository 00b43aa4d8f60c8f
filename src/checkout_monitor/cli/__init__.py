"""The command line: ``checkout-monitor COMMAND`` and ``run-smoke``.

Commands: ``smoke`` (the same as ``run-smoke``), ``validate``, ``serve``, ``rules``,
``images baseline`` and ``demo-shop``. Each lives in its own module here and only turns
arguments into a call to the engine; a command's module is imported only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import cast

from checkout_monitor.cli.guard import Command, guarded
from checkout_monitor.cli.parsers import main_parser, smoke_parser

# command -> its module under checkout_monitor.cli, whose ``command`` function runs it
COMMANDS = {
    "smoke": "smoke",
    "validate": "validate",
    "serve": "serve",
    "rules": "rules",
    "images": "images",
    "demo-shop": "demo_shop",
}


def _command(name: str) -> Command:
    return cast(Command, import_module(f"checkout_monitor.cli.{COMMANDS[name]}").command)


def main(argv: Sequence[str] | None = None) -> int:
    args = main_parser().parse_args(argv)
    return _run("checkout-monitor", args.command, args)


def run_smoke_main(argv: Sequence[str] | None = None) -> int:
    args = smoke_parser("run-smoke").parse_args(argv)
    return _run("run-smoke", "smoke", args)


def _run(prog: str, name: str, args: argparse.Namespace) -> int:
    args.driver = None
    if name != "smoke" or args.list:  # --list needs no browser
        return guarded(prog, _command(name), args)
    # A smoke run starts the browser first, so it comes up while the command's modules load
    # and the config is read (browser/early_start.py); it is stopped here, however the
    # command ends, usage errors before the run included.
    from checkout_monitor.browser.early_start import EarlyPlaywright  # noqa: PLC0415 (asyncio)

    with EarlyPlaywright() as args.driver:
        return guarded(prog, _command(name), args)


if __name__ == "__main__":
    sys.exit(main())
