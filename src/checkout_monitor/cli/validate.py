"""``checkout-monitor validate CONFIG``: check a config file and its journeys, run nothing."""

from __future__ import annotations

import argparse

from checkout_monitor.cli.exit_codes import ExitCode
from checkout_monitor.run.validate import validate


def command(args: argparse.Namespace) -> ExitCode:
    print(validate(args.config, args.monitors, args.web_config, args.without_secrets))
    return ExitCode.OK
