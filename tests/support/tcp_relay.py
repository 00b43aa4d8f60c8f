"""A real TCP forwarder on a free loopback port, whose ``cut()`` is a network cut.

An agent reaches a server through its own relay, as an agent in another region reaches a
shop through its own network path. ``cut()`` closes the listening socket and every
connection already forwarded, so from then on a client's connect is refused and an open
keep-alive connection is reset: the network between them is gone, and nothing about the
server or the client's config changed::

    with TcpRelay("127.0.0.1", shop_port) as relay:   # relay.port: where the client connects
        ...
        relay.cut()
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType

_CHUNK = 65536


class TcpRelay:
    """Forwards every connection to ``port`` on ``host`` until ``cut()``; ``close()`` ends its
    threads."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._threads: list[threading.Thread] = []
        self._accepting = self._start(self._accept)

    def cut(self) -> None:
        """Refuse new connections and drop the forwarded ones, both ways."""
        with self._lock:
            self._cut = True
            connections, self._open = set(self._open), set()
        _close(self._listener)
        for connection in connections:
            _close(connection)

    def close(self) -> None:
        self.cut()
        for thread in [self._accepting, *self._threads]:
            thread.join(timeout=5)

    def _start(self, target: Callable[..., None], *args: object) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        return thread

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed by cut()
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                if self._cut:
                    _close(client)
                    _close(server)
                    return
                self._open |= {client, server}
                self._threads += [
                    self._start(self._pump, client, server),
                    self._start(self._pump, server, client),
                ]

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy one direction until either side ends; then end both."""
        try:
            while data := source.recv(_CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open -= {source, sink}
            _close(source)
            _close(sink)

    def __enter__(self) -> TcpRelay:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _close(connection: socket.socket) -> None:
    """Shut down, then close: ``shutdown`` wakes a thread blocked in ``recv``/``accept``."""
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()
