"""``checkout-monitor images baseline``: record the known-good look of the product images."""

from __future__ import annotations

import argparse
import asyncio

from checkout_monitor.cli.exit_codes import ExitCode
from checkout_monitor.cli.targets import demo_request
from checkout_monitor.errors import UsageError
from checkout_monitor.images.baseline import (
    baseline_path,
    record_baseline,
    which_storefront,
    write_baseline,
)
from checkout_monitor.run.target import open_target


def command(args: argparse.Namespace) -> ExitCode:
    if args.demo and args.output is None:
        raise UsageError("with --demo, say where to write the baseline with --output PATH")
    with open_target(args.config, demo_request(args)) as (loaded, _header):
        name = which_storefront(loaded, args.storefront)
        path = baseline_path(loaded, name, args.output)
        document = asyncio.run(record_baseline(loaded, name))
    write_baseline(path, document)
    print(f"recorded {len(document['images'])} images of storefront {name!r} in {path}")
    return ExitCode.OK
