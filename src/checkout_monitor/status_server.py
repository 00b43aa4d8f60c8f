"""The agent's one HTTP listener: /metrics, /healthz (alive), /readyz (able to monitor),
and pages the agent adds (/alerts: the alert states as JSON); with a web config, over TLS
and behind basic auth (see web_config.py)."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from checkout_monitor.basic_auth import REALM, BasicAuth
from checkout_monitor.web_config import WebConfig

log = logging.getLogger(__name__)


class Readiness:
    """Ready when the browser is up and the scheduler loop ran recently."""

    def __init__(self, stale_after: float = 10.0) -> None:
        self._lock = threading.Lock()
        self._browser_up = False
        self._last_loop = 0.0
        self._stale_after = stale_after

    def browser(self, up: bool) -> None:
        with self._lock:
            self._browser_up = up

    def loop_ran(self) -> None:
        with self._lock:
            self._last_loop = time.monotonic()

    def problem(self) -> str | None:
        with self._lock:
            if not self._browser_up:
                return "the browser is not running"
            if time.monotonic() - self._last_loop > self._stale_after:
                return "the scheduler loop has not run recently"
        return None


Page = Callable[[], tuple[bytes, str]]  # body and content type, rendered per request

# Container probes cannot send credentials without writing them into the pod spec or the
# image, and these two answer a fixed word or reason, never a metric, a journey or a secret.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})
_TIMEOUT_SECONDS = 10.0  # a client that stalls mid-handshake or mid-request holds one thread
_PLAIN_HTTP_ANSWER = (
    b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
    b"Client sent an HTTP request to an HTTPS server: use https://\n"
)


class _Security:
    """The web config in force, swapped whole when the config is reloaded."""

    def __init__(self, web: WebConfig | None) -> None:
        self.tls: ssl.SSLContext | None = web.tls if web else None
        self.auth = BasicAuth(web.users) if web and web.users else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    security = _Security(None)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Runs in the connection's own thread: a slow TLS handshake holds up only itself."""
        tls = self.security.tls
        if tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(_TIMEOUT_SECONDS)
        try:
            first = request.recv(1, socket.MSG_PEEK)
            if first and first != b"\x16":  # not a TLS handshake record: say so, in plain HTTP
                request.recv(65536)  # read the request, or closing would reset the answer away
                request.sendall(_PLAIN_HTTP_ANSWER)
                return
            secured = tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.debug("TLS handshake with %s failed: %s", client_address[0], exc)
            return
        with secured:
            super().finish_request(secured, client_address)


class StatusServer:
    def __init__(
        self,
        host: str,
        port: int,
        registry: CollectorRegistry,
        ready: Readiness,
        pages: Mapping[str, Page] | None = None,
        web: WebConfig | None = None,
    ):
        self.paths = ["/metrics", "/healthz", "/readyz", *(pages or {})]
        self._server = _Server((host, port), _handler(registry, ready, dict(pages or {})))
        self.secure(web)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.2,), name="status-server", daemon=True
        )

    def secure(self, web: WebConfig | None) -> None:
        """Use this web config (TLS, basic auth) from the next connection on."""
        self._server.security = _Security(web)

    @property
    def scheme(self) -> str:
        return "https" if self._server.security.tls else "http"

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> StatusServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler(
    registry: CollectorRegistry, ready: Readiness, pages: dict[str, Page]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = _TIMEOUT_SECONDS
        server_version, sys_version = "checkout-monitor", ""  # no Python version for scanners
        server: _Server

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            auth = self.server.security.auth
            if path not in OPEN_PATHS and auth and not auth.allows(self.headers["Authorization"]):
                self._send(401, b"401 Unauthorized: give the user and password\n", challenge=True)
            elif path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._send(200, b"ok\n")
            elif path == "/readyz":
                problem = ready.problem()
                if problem is None:
                    self._send(200, b"ready\n")
                else:
                    self._send(503, f"not ready: {problem}\n".encode())
            elif path in pages:
                self._send(200, *pages[path]())
            else:
                known = ", ".join(["/metrics", "/healthz", "/readyz", *pages])
                self._send(404, f"not found: try {known}\n".encode())

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str = "text/plain",
            *,
            challenge: bool = False,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if challenge:
                self.send_header("WWW-Authenticate", REALM)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # scrapes every few seconds are not news

    return Handler
