"""``run-smoke`` / ``checkout-monitor smoke``: the journeys once, and a plain verdict."""

from __future__ import annotations

import argparse
import sys

from checkout_monitor.browser.early_start import EarlyPlaywright
from checkout_monitor.cli.exit_codes import ExitCode
from checkout_monitor.cli.guard import LOG_REDACTION
from checkout_monitor.cli.targets import demo_request
from checkout_monitor.errors import UsageError
from checkout_monitor.reports.writers import REPORT_FORMATS
from checkout_monitor.run.smoke_pipeline import SmokeOptions, describe, plan, smoke
from checkout_monitor.run.target import monitors_dir, open_target


def command(args: argparse.Namespace) -> ExitCode:
    if args.fault and not args.demo:
        raise UsageError("--fault only works with --demo (it switches faults on in the demo shop)")
    if args.triage and (args.journey or args.tag):
        raise UsageError("--triage runs every check: leave out --journey and --tag")
    driver: EarlyPlaywright | None = args.driver  # started (and stopped) by cli/__init__
    with open_target(args.config, demo_request(args)) as (loaded, header):
        LOG_REDACTION.add(loaded.secrets)
        options = SmokeOptions(
            monitors_dir=monitors_dir(args.monitors, loaded),
            journeys=args.journey,
            tags=args.tag,
            retries=args.retries,
            step_timeout=args.step_timeout,
            quiet=args.quiet,
            triage=args.triage,
            release=args.release,
            reports={r.option: getattr(args, r.option) for r in REPORT_FORMATS},
            history=args.history,
            pushgateway=args.pushgateway,
            push_instance=args.push_instance,
        )
        planned = plan(loaded, options)
        if args.list:
            print(describe(planned))
            return ExitCode.OK
        assert driver is not None  # only --list runs without one
        outcome = smoke(loaded, header, planned, options, sys.stdout, driver)
    for problem in outcome.problems:
        print(f"run-smoke: {problem}", file=sys.stderr)
    if not outcome.passed:
        return ExitCode.JOURNEY_FAILED  # the shop's failure matters more than a report's
    return ExitCode.USAGE_ERROR if outcome.problems else ExitCode.OK
