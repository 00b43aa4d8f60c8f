"""``checkout-monitor demo-shop``: the demo shop on fixed ports until Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import io
import signal
import threading
from collections.abc import Callable, Sequence

from .server import DemoShop


class PortsUnavailable(Exception):
    """The shop or the sandbox port is taken or not allowed."""


def serve_demo_shop(
    shop: DemoShop, announce: Callable[[str], None], faults: Sequence[str], theme: str
) -> None:
    """Start ``shop``, say where it is and how to switch faults, and serve until stopped."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # werkzeug prints, then exits
            shop.start()
    except (OSError, SystemExit):
        raise PortsUnavailable from None
    try:
        announce(f"demo shop ({theme}) at {shop.shop_url}")
        announce(
            f"payment sandbox at {shop.sandbox_url} (browsers: {shop.sandbox_public_url}), "
            f"payment: {shop.payment}, overlays: {', '.join(sorted(shop.overlays)) or 'none'}"
        )
        announce(f"faults on: {', '.join(faults) or 'none'}")
        announce(
            f"switch faults at run time: curl -X POST -H 'Authorization: Bearer <admin token>' "
            f"{shop.shop_url}/admin/faults/NAME (DELETE to switch off)"
        )
        announce("Ctrl-C stops it.")
        stop.wait()
    finally:
        shop.stop()
