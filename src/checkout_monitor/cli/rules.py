"""``checkout-monitor rules``: the config's alert rules as Prometheus alerting rules."""

from __future__ import annotations

import argparse

from checkout_monitor.alerting.prometheus_rules import render_rules
from checkout_monitor.alerting.rules_config import load_rules_config
from checkout_monitor.cli.exit_codes import ExitCode
from checkout_monitor.cli.output import emit
from checkout_monitor.config.locate import config_path


def command(args: argparse.Namespace) -> ExitCode:
    path = config_path(args.config)
    done = f"wrote Prometheus alerting rules for {path} to {args.output}"
    emit(render_rules(load_rules_config(path)), args.output, "the rules", done)
    return ExitCode.OK
