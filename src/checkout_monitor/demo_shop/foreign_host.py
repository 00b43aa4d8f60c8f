"""The foreign-host fault: the shop's pages pull in another host, and its checkout sends the
browser there, the two moves of a skimming attack (or of a vendor nobody told the monitor
about).

"Another host" is this same server under its other loopback name (a shop on 127.0.0.1
points at localhost), so nothing leaves the machine; the fault's ``port`` parameter points
it at another server on localhost instead, e.g. a test's, to count what gets through.
"""

from __future__ import annotations

from flask import Flask, Response, redirect, request
from flask.typing import ResponseReturnValue

from .faults import FaultSwitches

FAULT = "foreign-host"
_OWN_NAME = "127.0.0.1"  # the name the shop is reached by; the fault points away from it
_FOREIGN_NAME = "localhost"


def foreign_url(path: str, faults: FaultSwitches) -> str:
    """``path`` on the foreign host: the shop's own port, unless the fault names one."""
    port = int(faults.param(FAULT, "port")) or request.host.rpartition(":")[2]
    return f"http://{_FOREIGN_NAME}:{port}{path}"


def _reached_by_own_name() -> bool:
    return request.host.rpartition(":")[0] == _OWN_NAME


def install_foreign_host(app: Flask, faults: FaultSwitches) -> None:
    """Every HTML page loads a script from the foreign host and a stylesheet of its own
    that redirects there; every checkout page redirects the browser there (HTTP 302)."""

    @app.before_request
    def hijack_checkout() -> ResponseReturnValue | None:
        if (
            faults.is_on(FAULT)
            and request.method == "GET"
            and request.path.startswith("/checkout")
            and _reached_by_own_name()
        ):
            return redirect(foreign_url(request.full_path.rstrip("?"), faults), 302)
        return None

    @app.after_request
    def pull_in_foreign_host(response: Response) -> Response:
        if (
            not faults.is_on(FAULT)
            or response.mimetype != "text/html"
            or response.is_streamed
            or not _reached_by_own_name()
        ):
            return response
        tags = (
            f'<script src="{foreign_url("/vendor/tracker.js", faults)}" async></script>'
            # a stylesheet of the shop's own that redirects away: a hop routing cannot see
            '<link rel="stylesheet" href="/vendor/fonts.css">'
        )
        body = response.get_data(as_text=True)
        if "</body>" in body:
            response.set_data(body.replace("</body>", f"{tags}</body>", 1))
        return response

    @app.get("/vendor/tracker.js")
    def tracker() -> ResponseReturnValue:
        return Response("/* a third party's tracker */", mimetype="text/javascript")

    @app.get("/vendor/fonts.css")
    def fonts() -> ResponseReturnValue:
        if faults.is_on(FAULT) and _reached_by_own_name():
            return redirect(foreign_url("/vendor/fonts.css", faults), 302)
        return Response("/* a font vendor's stylesheet */", mimetype="text/css")
