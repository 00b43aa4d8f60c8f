"""``checkout-monitor schema``: the config's JSON Schema, for editors and CI linters."""

from __future__ import annotations

import argparse
import sys

from checkout_monitor.cli.exit_codes import ExitCode
from checkout_monitor.config.json_schema import render_schema
from checkout_monitor.errors import UsageError
from checkout_monitor.reports.atomic_files import write_text


def command(args: argparse.Namespace) -> ExitCode:
    text = render_schema()
    if args.output is None:
        sys.stdout.write(text)
        return ExitCode.OK
    try:
        write_text(args.output, text)
    except OSError as exc:
        raise UsageError(f"could not write the schema to {args.output}: {exc}") from None
    print(f"wrote the config's JSON Schema to {args.output}", file=sys.stderr)
    return ExitCode.OK
