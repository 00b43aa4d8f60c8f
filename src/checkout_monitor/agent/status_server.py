"""The agent's one HTTP listener: /metrics, /healthz (alive), /readyz (able to monitor),
and pages the agent adds (/alerts: the alert states as JSON; /: the status page and its
/evidence/ files); with a web config, over TLS and behind basic auth (see web_config.py).

A thread per connection, but never more than ``max_connections`` of them, and no connection
lives longer than ``request_deadline`` from accept to its last byte: the handshake, request
and answer as a whole, however slowly a client trickles them (see _Connections). An answer
streamed from a file (an evidence download of megabytes) is the exception: each chunk it
writes gives it ``request_deadline`` more, so a slow link that keeps reading finishes, while
a client that stops reading is cut ``request_deadline`` after its last progress.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from checkout_monitor.agent.basic_auth import REALM, BasicAuth, Verdict
from checkout_monitor.config.web_config import WebConfig

log = logging.getLogger("checkout_monitor.status_server")  # the name logs and filters know


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


class Stream(Protocol):
    """A body sent in chunks (an open file), closed once sent or abandoned."""

    size: int

    def read(self, size: int) -> bytes: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Answer:
    """What a web page of the agent answers: status, body, type and its own headers;
    with ``stream``, the body is read from it in chunks instead (``body`` is ignored)."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    stream: Stream | None = None


WebPage = Callable[[str, Mapping[str, list[str]]], Answer]
"""A page that reads the request: the path (still percent-encoded) and the query string.
Registered under a path (``/``), or under a prefix ending in ``/`` (``/evidence/``)."""

# Container probes cannot send credentials without writing them into the pod spec or the
# image, and these two answer a fixed word or reason, never a metric, a journey or a secret.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})
# Prometheus scrapes one connection at a time; 64 leaves room for several Prometheus replicas,
# probes and people with curl, while a flood costs at most 64 threads.
MAX_CONNECTIONS = 64
# From accept to the last byte of the answer. A per-recv timeout alone never fires for a
# client that sends one byte every few seconds: this does, during the TLS handshake too.
REQUEST_DEADLINE_SECONDS = 10.0
_RECV_TIMEOUT_SECONDS = 10.0  # per recv and send; REQUEST_DEADLINE_SECONDS bounds the whole
_PLAIN_HTTP_ANSWER = (
    b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
    b"Client sent an HTTP request to an HTTPS server: use https://\n"
)
_WARN_EVERY_SECONDS = 60.0  # a flood is worth one warning a minute, not one per connection
_CHUNK_BYTES = 64 * 1024  # per write of a streamed answer: each one is progress
_INTERNAL_ERROR = (
    b"500 Internal Server Error: the agent could not build this answer; "
    b"its log says why (a bug worth reporting)\n"
)


def is_loopback(host: str) -> bool:
    """Whether a listen host is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def password_only_refusal(prefix: str) -> bytes:
    """Why a path under ``prefix`` is refused on an open listener, and what to do."""
    return (
        f"403 Forbidden: {prefix} (screenshots, page HTML, traces with cookies) is served "
        "only behind a password, or on a loopback listener; this listener is neither. "
        "Turn on basic auth, with TLS, in a web config (--web-config): see docs/serve.md, "
        "'TLS and a password for the listener'.\n"
    ).encode()


class _ErrorLog:
    """Logs an unexpected error once per kind with its traceback, later ones at debug:
    a bug hit by every page view (one a minute per open browser) is one log entry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[str] = set()

    def error(self, path: str, error: Exception) -> None:
        kind = f"{type(error).__module__}.{type(error).__qualname__}"
        with self._lock:
            first = kind not in self._seen
            self._seen.add(kind)
        level = logging.ERROR if first else logging.DEBUG
        log.log(level, "listener: answering %s failed (%s)", path, kind, exc_info=first)


@dataclass(eq=False)
class _Connection:
    """One accepted connection, as the accept loop sees it."""

    watch: socket.socket  # a dup of the socket: shutdown() through it wakes the thread's recv
    accepted: float
    deadline: float
    answering: bool = False  # the request is read: no longer a slow client to push out
    dropped: str | None = None  # why the listener ended it early

    def progress(self, seconds: float) -> None:
        """A streamed answer wrote a chunk: it may take ``seconds`` more from now."""
        self.deadline = time.monotonic() + seconds

    def drop(self, why: str) -> None:
        """End the connection from another thread: its blocked recv or send returns at once."""
        if self.dropped is None:
            self.dropped = why
            with contextlib.suppress(OSError):  # the client is already gone
                self.watch.shutdown(socket.SHUT_RDWR)


class _Connections:
    """The live connections: at most ``cap``, none past its deadline.

    Near the cap (``reserve`` slots left) each new connection pushes out the connection that
    has waited longest without sending a whole request, so a flood of slow clients cannot
    shut out a kubelet probe or a scrape, which send their request at once; only a flood of
    complete requests can fill the cap, and then new connections are closed, never queued.
    """

    def __init__(self, cap: int, deadline: float) -> None:
        self.cap = cap
        self.reserve = max(1, cap // 8)
        self.deadline = deadline
        self._lock = threading.Lock()
        self._live: set[_Connection] = set()
        self._warned = -_WARN_EVERY_SECONDS
        self.refused = 0  # closed at once: the cap was full of complete requests
        self.pushed_out = 0  # slow clients ended to make room
        self.expired = 0  # ended by the deadline

    def admit(self, request: socket.socket) -> _Connection | None:
        """Register a new connection, or None when it must be closed; never blocks."""
        now = time.monotonic()
        with self._lock:
            if len(self._live) >= self.cap - self.reserve:
                slow = [c for c in self._live if not c.answering and c.dropped is None]
                if slow:
                    min(slow, key=lambda c: c.accepted).drop("pushed out")
                    self.pushed_out += 1
                self._warn(now)
            if len(self._live) >= self.cap:
                self.refused += 1
                return None
            connection = _Connection(request.dup(), now, now + self.deadline)
            self._live.add(connection)
            return connection

    @property
    def live(self) -> int:
        """Connections open now, each holding a thread."""
        with self._lock:
            return len(self._live)

    def done(self, connection: _Connection) -> None:
        with self._lock:
            self._live.discard(connection)
        connection.watch.close()

    def expire(self) -> None:
        """Drop every connection past its deadline (called by the accept loop)."""
        now = time.monotonic()
        with self._lock:
            late = [c for c in self._live if c.dropped is None and now > c.deadline]
            self.expired += len(late)
        for connection in late:
            connection.drop("past the deadline")

    def close_all(self) -> None:
        with self._lock:
            live = list(self._live)
        for connection in live:
            connection.drop("the listener stopped")

    def _warn(self, now: float) -> None:
        if now - self._warned >= _WARN_EVERY_SECONDS:
            self._warned = now
            log.warning(
                "listener: %d connections open (the cap is %d): ending the slowest",
                len(self._live),
                self.cap,
            )


class _Security:
    """The web config in force, swapped whole when the config is reloaded."""

    def __init__(self, web: WebConfig | None, previous: _Security | None = None) -> None:
        self.tls: ssl.SSLContext | None = web.tls if web else None
        before = previous.auth if previous else None
        self.auth: BasicAuth | None = (
            BasicAuth(web.users, previous=before) if web and web.users else None
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a burst of connects waits in the kernel, not in SYN retries

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        connections: _Connections,
    ) -> None:
        self.security = _Security(None)
        self.connections = connections
        self._current = threading.local()  # the connection this handler thread serves
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """In the accept loop: a thread for the connection if there is room; never waits."""
        connection = self.connections.admit(request)
        if connection is None:
            self.shutdown_request(request)
            return
        thread = threading.Thread(
            target=self._serve, args=(connection, request, client_address), daemon=True
        )
        try:
            thread.start()
        except RuntimeError:  # no thread to be had: the connection is closed, not queued
            self.connections.done(connection)
            self.shutdown_request(request)

    def _serve(self, connection: _Connection, request: Any, client_address: Any) -> None:
        self._current.connection = connection
        try:
            self.finish_request(request, client_address)
        except Exception:  # one connection's failure is never the listener's
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self.connections.done(connection)
            if connection.dropped:
                log.debug("listener: ended %s: %s", client_address[0], connection.dropped)

    def answering(self) -> None:
        """The request is read: the connection is no longer a slow client."""
        connection: _Connection | None = getattr(self._current, "connection", None)
        if connection is not None:
            connection.answering = True

    def progress(self) -> None:
        """A chunk of a streamed answer is on its way: the deadline moves on."""
        connection: _Connection | None = getattr(self._current, "connection", None)
        if connection is not None:
            connection.progress(self.connections.deadline)

    def service_actions(self) -> None:
        """Between accepts (at least every poll interval): enforce the request deadline."""
        self.connections.expire()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-answer (or pushed out) is routine; anything else is a bug."""
        error = sys.exc_info()[1]
        level = logging.DEBUG if isinstance(error, OSError) else logging.ERROR
        log.log(level, "listener: serving %s failed", client_address[0], exc_info=True)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Runs in the connection's own thread: a slow TLS handshake holds up only itself."""
        tls = self.security.tls
        if tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(_RECV_TIMEOUT_SECONDS)
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
        *,
        web_pages: Mapping[str, WebPage] | None = None,
        max_connections: int = MAX_CONNECTIONS,
        request_deadline: float = REQUEST_DEADLINE_SECONDS,
        password_only: Sequence[str] = (),
    ):
        """``password_only``: path prefixes answered only while basic auth is on (403 else);
        ``serve`` names ``/evidence/`` there when the listener is not on loopback."""
        self.paths = ["/metrics", "/healthz", "/readyz", *(pages or {}), *(web_pages or {})]
        self._server = _Server(
            (host, port),
            _handler(registry, ready, dict(pages or {}), dict(web_pages or {}), password_only),
            _Connections(max_connections, request_deadline),
        )
        self.secure(web)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.2,), name="status-server", daemon=True
        )

    def secure(self, web: WebConfig | None) -> None:
        """Use this web config (TLS, basic auth) from the next connection on."""
        self._server.security = _Security(web, previous=self._server.security)

    @property
    def connections(self) -> _Connections:
        """The live connections and how many were refused, pushed out or expired."""
        return self._server.connections

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
        self._server.connections.close_all()
        self._thread.join(timeout=5)


def _web_page(web_pages: dict[str, WebPage], path: str) -> WebPage | None:
    """The page registered for this path, exactly or by its prefix (``/evidence/``)."""
    if path in web_pages:
        return web_pages[path]
    for prefix, page in web_pages.items():
        if len(prefix) > 1 and prefix.endswith("/") and path.startswith(prefix):
            return page
    return None


def _locked(prefixes: Sequence[str], path: str, auth: BasicAuth | None) -> str | None:
    """The password-only prefix ``path`` is under while no password is asked, or None."""
    if auth is not None:
        return None
    return next((prefix for prefix in prefixes if path.startswith(prefix)), None)


def _handler(
    registry: CollectorRegistry,
    ready: Readiness,
    pages: dict[str, Page],
    web_pages: dict[str, WebPage],
    password_only: Sequence[str] = (),
) -> type[BaseHTTPRequestHandler]:
    errors = _ErrorLog()

    class Handler(BaseHTTPRequestHandler):
        timeout = _RECV_TIMEOUT_SECONDS
        server_version, sys_version = "checkout-monitor", ""  # no Python version for scanners
        server: _Server
        _started = False  # the status line is out: too late for a 500

        def do_GET(self) -> None:
            self.server.answering()
            try:
                self._answer()
            except Exception as error:
                if self._started:
                    raise  # mid-answer (a client gone): handle_error says so at debug
                errors.error(self.path.partition("?")[0], error)
                self._send(500, _INTERNAL_ERROR)

        def _answer(self) -> None:
            path, _, query = self.path.partition("?")
            auth = self.server.security.auth
            verdict = Verdict.ALLOWED
            if path not in OPEN_PATHS and auth:
                verdict = auth.check(self.headers["Authorization"], self.client_address[0])
            if verdict is Verdict.REFUSED:
                self._send(401, b"401 Unauthorized: give the user and password\n", challenge=True)
            elif verdict is Verdict.BUSY:
                self._send(
                    429,
                    b"429 Too Many Requests: too many password checks from your address "
                    b"at once; retry in a second\n",
                    retry_after=1,
                )
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
            elif (locked := _locked(password_only, path, auth)) is not None:
                self._send(403, password_only_refusal(locked))
            elif (page := _web_page(web_pages, path)) is not None:
                answer = page(path, parse_qs(query))
                self._send(
                    answer.status,
                    answer.body,
                    answer.content_type,
                    headers=answer.headers,
                    stream=answer.stream,
                )
            else:
                known = ", ".join(["/metrics", "/healthz", "/readyz", *pages, *web_pages])
                self._send(404, f"not found: try {known}\n".encode())

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str = "text/plain",
            *,
            challenge: bool = False,
            retry_after: int | None = None,
            headers: tuple[tuple[str, str], ...] = (),
            stream: Stream | None = None,
        ) -> None:
            try:
                length = stream.size if stream else len(body)
                self._send_headers(status, content_type, length, challenge, retry_after, headers)
                if stream is None:
                    self.wfile.write(body)
                else:
                    self._stream(stream)
            finally:
                if stream is not None:
                    stream.close()

        def _send_headers(
            self,
            status: int,
            content_type: str,
            length: int,
            challenge: bool,
            retry_after: int | None,
            headers: tuple[tuple[str, str], ...],
        ) -> None:
            self._started = True
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(length))
            self.send_header("X-Content-Type-Options", "nosniff")
            for name, value in headers:
                self.send_header(name, value)
            if challenge:
                self.send_header("WWW-Authenticate", REALM)
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.end_headers()

        def _stream(self, stream: Stream) -> None:
            """Chunk by chunk, each write bounded by the deadline from the one before."""
            left = stream.size
            while left > 0:
                chunk = stream.read(min(_CHUNK_BYTES, left))
                if not chunk:  # the file shrank: the short answer tells the client
                    return
                self.server.progress()
                self.wfile.write(chunk)
                left -= len(chunk)

        def log_message(self, format: str, *args: object) -> None:
            pass  # scrapes every few seconds are not news

    return Handler
