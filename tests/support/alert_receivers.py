"""A real HTTP receiver on a free loopback port that records what alert channels send it.

Use it as the target of any HTTP channel (webhook, Slack, PagerDuty, Alertmanager's own
webhook receiver)::

    with AlertReceiver() as receiver:          # or receiver = AlertReceiver().start()
        receiver.set_status(500, "down")       # every later request gets this answer
        ... send to receiver.url + "/hook" ...
        first = receiver.wait_for(1)[0]        # bounded wait, AssertionError on timeout
        first.method, first.path, first.header("idempotency-key"), first.json
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as it arrived: header names are kept as sent, looked up case-blind."""

    method: str
    path: str  # with the query string, if any
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class AlertReceiver:
    """A threaded ``http.server`` on 127.0.0.1 that answers every request with one status.

    ``requests`` is a snapshot list; ``wait_for`` blocks (bounded) until enough arrived.
    """

    def __init__(self, status: int = 200, body: str = "ok") -> None:
        self._lock = threading.Condition()
        self._requests: list[ReceivedRequest] = []
        self._status = status
        self._body = body
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> AlertReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            do_PUT = do_POST
            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test asserts on ``requests``, not on stderr."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> AlertReceiver:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what tests use -----------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        port: int = self._server.server_address[1]
        return port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, no trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def set_status(self, status: int, body: str = "") -> None:
        """Answer every request from now on with ``status`` and ``body``."""
        with self._lock:
            self._status = status
            self._body = body

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        """Block until at least ``count`` requests arrived; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"receiver got {len(self._requests)} requests, wanted {count} "
                        f"within {timeout:g}s"
                    )
                self._lock.wait(left)
            return list(self._requests)

    # -- the server side ----------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = ReceivedRequest(
            method=handler.command,
            path=handler.path,
            headers=dict(handler.headers.items()),
            body=body,
        )
        with self._lock:
            self._requests.append(request)
            status, answer = self._status, self._body.encode()
            self._lock.notify_all()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)
