"""``checkout-monitor demo-shop``: serve the embedded demo shop on fixed ports."""

from __future__ import annotations

import argparse
from functools import partial

from checkout_monitor.cli.exit_codes import ExitCode
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.demo_shop.standalone import PortsUnavailable, serve_demo_shop
from checkout_monitor.errors import UsageError


def command(args: argparse.Namespace) -> ExitCode:
    shop = DemoShop(
        host=args.host,
        shop_port=args.port,
        sandbox_port=args.sandbox_port,
        faults=args.fault,
        theme=args.theme,
        admin_token=args.admin_token,
        payment=args.demo_payment,
        overlays=args.demo_overlays,
    )
    try:
        serve_demo_shop(shop, partial(print, flush=True), args.fault, args.theme)
    except PortsUnavailable:
        raise UsageError(
            f"cannot listen on {args.host}:{args.port} (shop) and {args.sandbox_port} "
            "(payment sandbox): a port is in use or not allowed; choose others with --port "
            "and --sandbox-port"
        ) from None
    return ExitCode.OK
