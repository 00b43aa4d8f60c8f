"""The agent's one HTTP listener: /metrics, /healthz (alive), /readyz (able to monitor),
and pages the agent adds (/alerts: the alert states as JSON)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


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


class StatusServer:
    def __init__(
        self,
        host: str,
        port: int,
        registry: CollectorRegistry,
        ready: Readiness,
        pages: Mapping[str, Page] | None = None,
    ):
        self.paths = ["/metrics", "/healthz", "/readyz", *(pages or {})]
        handler = _handler(registry, ready, dict(pages or {}))
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.2,), name="status-server", daemon=True
        )

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
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
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

        def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # scrapes every few seconds are not news

    return Handler
