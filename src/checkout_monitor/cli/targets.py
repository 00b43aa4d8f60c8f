"""``--config`` / ``--demo`` and the demo options, read from parsed arguments."""

from __future__ import annotations

import argparse

from checkout_monitor.run.target import DemoRequest


def demo_request(args: argparse.Namespace) -> DemoRequest | None:
    if not args.demo:
        return None
    return DemoRequest(
        theme=args.demo_theme,
        payment=args.demo_payment,
        overlays=args.demo_overlays,
        faults=getattr(args, "fault", []),
    )
