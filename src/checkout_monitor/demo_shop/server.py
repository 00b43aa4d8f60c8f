"""DemoShop: the storefront and its payment sandbox, each served on its own local port."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .faults import FaultSwitches, check_fault_name
from .orders import OrderStore
from .payment_modes import check_overlays, check_payment_mode
from .payment_sandbox import create_sandbox_app
from .payments import SandboxClient
from .shop_app import create_shop_app
from .shop_services import ShopServices
from .themes import check_theme

_log = logging.getLogger(__name__)


class _QuietRequestHandler(WSGIRequestHandler):
    """Access lines go to debug logging, not stderr: the monitor's own output stays readable."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        _log.debug("%s %s -> %s", self.command, self.path, code)


class _ServedApp:
    """One WSGI app bound to a port and served from a daemon thread.

    `app` may be built from the bound port (for an app that must know its own URL).
    """

    def __init__(
        self, host: str, port: int, app: Flask | Callable[[int], Flask], name: str
    ) -> None:
        placeholder = app if isinstance(app, Flask) else Flask(name)
        self.server: BaseWSGIServer = make_server(
            host, port, placeholder, threaded=True, request_handler=_QuietRequestHandler
        )
        if not isinstance(app, Flask):
            try:
                self.server.app = app(self.server.server_port)
            except BaseException:
                self.server.server_close()
                raise
        # A short poll interval keeps stop() quick; shutdown waits for one poll at most.
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name=name, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def _public_url(port: int) -> str:
    return f"http://pay.localhost:{port}"


class DemoShop:
    """A small handmade-goods shop and a payment sandbox, for monitors to walk and break."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        shop_port: int = 0,
        sandbox_port: int = 0,
        faults: Iterable[str] = (),
        theme: str = "classic",
        admin_token: str | None = None,
        fault_params: Mapping[str, Mapping[str, float]] | None = None,
        payment: str = "form",
        overlays: Iterable[str] = (),
        newsletter_delay: float = 2.0,
    ) -> None:
        """`payment`: "form", "hosted-fields" or "redirect"; `overlays`: any of
        "cookie-banner", "newsletter" (shown `newsletter_delay` seconds into a page)."""
        check_theme(theme)
        check_payment_mode(payment)
        self.overlays = check_overlays(overlays)
        if newsletter_delay < 0:
            raise ValueError("newsletter_delay must not be negative")
        initial = list(faults)
        for name in initial:
            check_fault_name(name)
        self.host = host
        self.theme = theme
        self.payment = payment
        self.newsletter_delay = newsletter_delay
        self.admin_token = admin_token if admin_token is not None else secrets.token_urlsafe(24)
        self.faults = FaultSwitches(fault_params)
        self.faults.enable_all(initial)
        self.orders = OrderStore()
        self.shop_url = ""
        self.sandbox_url = ""
        # Browsers reach the sandbox under another site than the shop (127.0.0.1): its
        # card fields and 3-D Secure frames are cross-site iframes, as with a real provider.
        # Chromium resolves *.localhost to the loopback address itself.
        self.sandbox_public_url = ""
        self._secret = secrets.token_bytes(32)  # signs the hosted payment page's results
        self._ports = (shop_port, sandbox_port)
        self._stopping = threading.Event()
        self._served: list[_ServedApp] = []
        self._sandbox_client: SandboxClient | None = None

    def start(self) -> DemoShop:
        """Bind both servers (port 0 picks a free port) and serve them in background threads."""
        if self._served:
            return self
        shop_port, sandbox_port = self._ports
        self._stopping.clear()
        # The public URL names the port, so the sandbox is built once the port is bound.
        sandbox = _ServedApp(
            self.host,
            sandbox_port,
            lambda port: create_sandbox_app(self.faults, _public_url(port), self._secret),
            "sandbox",
        )
        self._served.append(sandbox)
        public_url = _public_url(sandbox.server.server_port)
        self._sandbox_client = SandboxClient(sandbox.url)
        services = ShopServices(
            faults=self.faults,
            orders=self.orders,
            sandbox=self._sandbox_client,
            admin_token=self.admin_token,
            stopping=self._stopping,
            payment=self.payment,
            overlays=self.overlays,
            newsletter_delay=self.newsletter_delay,
            sandbox_public_url=public_url,
            payment_secret=self._secret,
        )
        try:
            app = create_shop_app(self.theme, services, secrets.token_hex(32))
            shop = _ServedApp(self.host, shop_port, app, "demo-shop")
        except BaseException:
            self.stop()
            raise
        self._served.append(shop)
        self.sandbox_url, self.shop_url = sandbox.url, shop.url
        self.sandbox_public_url = public_url
        return self

    def stop(self) -> None:
        """Shut both servers down and join their threads; calling it twice is harmless."""
        self._stopping.set()  # wakes product pages held back by slow-product-page
        served, self._served = self._served, []
        # Both servers wind down in parallel: each waits up to one poll interval.
        stoppers = [threading.Thread(target=app.stop) for app in served]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        if self._sandbox_client is not None:
            self._sandbox_client.close()
            self._sandbox_client = None

    def __enter__(self) -> DemoShop:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
