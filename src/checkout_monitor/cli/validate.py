"""``checkout-monitor validate CONFIG``: check a config file and its journeys, run nothing."""

from __future__ import annotations

import argparse

from checkout_monitor.agent.sharding import preview
from checkout_monitor.cli.exit_codes import ExitCode
from checkout_monitor.config.loader import load_config
from checkout_monitor.run.validate import validate


def command(args: argparse.Namespace) -> ExitCode:
    print(validate(args.config, args.monitors, args.web_config, args.without_secrets))
    if args.shards is not None:  # checked above: this second read cannot fail
        loaded = load_config(args.config, unset=[] if args.without_secrets else None)
        enabled = [j.display_name for j in loaded.config.journeys if j.enabled]
        for line in preview(enabled, args.shards):
            print(f"{args.config}: {line}")
    return ExitCode.OK
