"""A real TCP forwarder on a free loopback port, whose ``cut()`` is a network cut.

An agent reaches a server through its own relay, as an agent in another region reaches a
shop through its own network path. ``cut()`` resets every connection already forwarded, and
from then on every new one as soon as it is accepted: a client sees a connection reset at
once (not a wait for a timeout), and nothing about the server or the client's config
changed. The listening port stays bound until ``close()``, so no other process can take it
and answer in the shop's place::

    with TcpRelay("127.0.0.1", shop_port) as relay:   # relay.port: where the client connects
        ...
        relay.cut()
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType

_CHUNK = 65536
_ABORT = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a reset, not a FIN


class TcpRelay:
    """Forwards every connection to ``port`` on ``host`` until ``cut()``; ``close()`` frees
    the port and ends its threads."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[_Forwarded] = set()
        self._cut = False
        self._threads: list[threading.Thread] = []
        self._accepting = self._start(self._accept)

    def cut(self) -> None:
        """Reset the forwarded connections, both ways, and every new one from now on."""
        with self._lock:
            self._cut = True
            forwarded, self._open = set(self._open), set()
        for connection in forwarded:
            connection.reset()

    def close(self) -> None:
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept
        self._listener.close()
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
            except OSError:  # closed by close()
                return
            if self._cut:
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            forwarded = _Forwarded(client, server)
            with self._lock:
                if self._cut:
                    forwarded.reset()
                    continue
                self._open.add(forwarded)
                self._threads += [
                    self._start(self._pump, forwarded, client, server),
                    self._start(self._pump, forwarded, server, client),
                ]

    def _pump(self, forwarded: _Forwarded, source: socket.socket, sink: socket.socket) -> None:
        """Copy one direction until its sender is done; an error resets both."""
        try:
            while data := source.recv(_CHUNK):
                sink.sendall(data)
        except OSError:
            forwarded.reset()
        else:
            if not forwarded.sent_all(sink):
                return
        with self._lock:
            self._open.discard(forwarded)

    def __enter__(self) -> TcpRelay:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class _Forwarded:
    """A client's connection and the relay's to the server: a half-close is passed on (the
    other direction goes on), a reset resets both."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.sockets = (client, server)
        self._lock = threading.Lock()
        self._done = 0  # directions whose sender has finished
        self._reset = False

    def sent_all(self, sink: socket.socket) -> bool:
        """One direction's sender is done: pass its FIN on to ``sink``; True once both are
        (the connection has ended)."""
        with self._lock:
            if self._reset:  # the cut woke the reader: nothing more to pass on
                return True
            self._done += 1
            if self._done < 2:
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)
                return False
        for connection in self.sockets:
            connection.close()
        return True

    def reset(self) -> None:
        with self._lock:
            if self._reset:
                return
            self._reset = True
        for connection in self.sockets:
            _reset(connection)


def _reset(connection: socket.socket) -> None:
    """Close with a reset: ``SHUT_RD`` wakes a thread blocked in ``recv`` without sending a
    FIN (the peer would read it as a clean end), then ``close`` sends the RST."""
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _ABORT)
        connection.shutdown(socket.SHUT_RD)
    connection.close()
