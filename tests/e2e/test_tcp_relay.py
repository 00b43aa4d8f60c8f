"""The TCP relay behind ``test_several_locations``: its ``cut()`` must be a network cut a
client sees at once (a reset), on a port no other process can take meanwhile; until then,
it must carry a half-closed connection's answer back."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from support.tcp_relay import TcpRelay

GUARD = 10.0  # no test waits this long unless the relay is broken: then it fails, not hangs


def _read_to_end(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


def _answer_after_eof(connection: socket.socket) -> None:
    """Reads the whole request (to the client's half-close), then answers it."""
    connection.sendall(b"got:" + _read_to_end(connection))


def _echo(connection: socket.socket) -> None:
    while data := connection.recv(4096):
        connection.sendall(data)


@pytest.fixture
def upstream() -> Iterator[Callable[[Callable[[socket.socket], None]], int]]:
    """A real TCP server on a free port serving each connection with a handler, in a thread."""
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(handle: Callable[[socket.socket], None]) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:  # closed at the end of the test
                    return
                with connection, contextlib.suppress(OSError):
                    handle(connection)

        threads.append(threading.Thread(target=serve, daemon=True))
        threads[-1].start()
        return int(listener.getsockname()[1])

    yield start
    for listener in listeners:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
    for thread in threads:
        thread.join(timeout=5)


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=GUARD)


def test_a_half_close_still_carries_the_answer_back(upstream: Callable[..., int]) -> None:
    with TcpRelay("127.0.0.1", upstream(_answer_after_eof)) as relay, _connect(relay.port) as c:
        c.sendall(b"hello")
        c.shutdown(socket.SHUT_WR)  # done sending; still reading
        assert _read_to_end(c) == b"got:hello"


def test_a_cut_resets_open_and_new_connections_and_keeps_the_port(
    upstream: Callable[..., int],
) -> None:
    with TcpRelay("127.0.0.1", upstream(_echo)) as relay, _connect(relay.port) as open_one:
        open_one.sendall(b"ping")
        assert open_one.recv(4) == b"ping"
        relay.cut()
        with pytest.raises(ConnectionResetError):
            open_one.recv(4)
        # the port stays the relay's: nothing else can bind it and answer for the network
        with pytest.raises(OSError), socket.create_server(("127.0.0.1", relay.port)):
            pass
        # accepted, then reset: the client may see it at once, or at its first read
        with pytest.raises(ConnectionResetError), _connect(relay.port) as new_one:
            new_one.recv(4)
