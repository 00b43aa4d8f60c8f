"""Answers a broken or hostile server gives: redirects in circles, a page that never ends, a
download far larger than any photo. Streams stop when the shop stops or the client leaves."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from flask import Response, request

_NO_STORE = {"Cache-Control": "no-store"}  # faults switch at run time; caches would hide them
_PADDING = bytes(1024 * 1024)


def redirect_in_circles() -> Response:
    """Send the page to itself with ``?looped=1`` and back again, forever (browsers stop
    after 20 redirects); the kind of loop a bad rewrite rule or cookie check makes."""
    target = request.path if request.args.get("looped") else f"{request.path}?looped=1"
    return Response(status=302, headers={"Location": target, **_NO_STORE})


def trickle_forever(head: str, interval: float, stopping: threading.Event) -> Response:
    """Send ``head`` at once, then a comment every ``interval`` seconds and never the end:
    a backend stuck after flushing the top of the page."""

    def chunks() -> Iterator[bytes]:
        yield head.encode()
        # A client that leaves makes the next write fail: the server then closes this.
        while not stopping.wait(max(interval, 0.01)):
            yield b"<!-- still loading -->\n"

    # No Content-Length: the server sends it chunked, with no end in sight.
    return Response(chunks(), mimetype="text/html", headers=_NO_STORE)


def oversized(
    data: bytes,
    mimetype: str,
    size: int,
    stopping: threading.Event,
    *,
    announce_length: bool,
) -> Response:
    """``data`` padded with zero bytes to ``size``: a picture that still shows, inside a
    download no monitor should take in whole. Without ``announce_length`` it is sent
    chunked, so its size is unknown until the end."""
    size = max(size, len(data))

    def chunks() -> Iterator[bytes]:
        yield data
        left = size - len(data)
        while left > 0 and not stopping.is_set():
            piece = _PADDING[: min(left, len(_PADDING))]
            yield piece
            left -= len(piece)

    headers = dict(_NO_STORE)
    if announce_length:
        headers["Content-Length"] = str(size)
    return Response(chunks(), mimetype=mimetype, headers=headers)
