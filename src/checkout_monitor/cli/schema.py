"""``checkout-monitor schema``: the config's JSON Schema, for editors and CI linters."""

from __future__ import annotations

import argparse

from checkout_monitor.cli.exit_codes import ExitCode
from checkout_monitor.cli.output import emit
from checkout_monitor.config.json_schema import render_schema


def command(args: argparse.Namespace) -> ExitCode:
    done = f"wrote the config's JSON Schema to {args.output}"
    emit(render_schema(), args.output, "the schema", done)
    return ExitCode.OK
