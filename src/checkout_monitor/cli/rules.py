"""``checkout-monitor rules``: the config's alert rules as Prometheus alerting rules."""

from __future__ import annotations

import argparse
import sys

from checkout_monitor.alerting.prometheus_rules import render_rules
from checkout_monitor.cli.exit_codes import ExitCode
from checkout_monitor.config.loader import load_config
from checkout_monitor.config.locate import config_path
from checkout_monitor.errors import UsageError
from checkout_monitor.reports.atomic_files import write_text


def command(args: argparse.Namespace) -> ExitCode:
    path = config_path(args.config)
    text = render_rules(load_config(path))
    if args.output is None:
        sys.stdout.write(text)
        return ExitCode.OK
    try:
        write_text(args.output, text)
    except OSError as exc:
        raise UsageError(f"could not write the rules to {args.output}: {exc}") from None
    print(f"wrote Prometheus alerting rules for {path} to {args.output}", file=sys.stderr)
    return ExitCode.OK
