"""Every request the monitor makes says it is synthetic, as configured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml

from checkout_monitor import __version__
from support.cli_support import REPO, run_cli

pytestmark = pytest.mark.browser


class _RecordingShop(BaseHTTPRequestHandler):
    """A one-page 'shop' that remembers the headers of every request it gets."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers.items()))
        body = b"<!doctype html><title>Mug</title><h1 class='product-title'>Mug</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recording_shop() -> Iterator[tuple[str, list[dict[str, str]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingShop)
    _RecordingShop.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _RecordingShop.seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize(
    ("synthetic", "header", "value", "suffix"),
    [
        ({}, "X-Synthetic-Monitor", "checkout-monitor", "(synthetic)"),
        (
            {"header_name": "X-Robot", "header_value": "uptime", "user_agent_suffix": "robot/1"},
            "X-Robot",
            "uptime",
            "robot/1",
        ),
    ],
)
def test_requests_carry_the_marking(
    recording_shop: tuple[str, list[dict[str, str]]],
    tmp_path: Path,
    synthetic: dict[str, str],
    header: str,
    value: str,
    suffix: str,
) -> None:
    url, seen = recording_shop
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "monitors_dir": str(REPO / "monitors"),
                "synthetic": synthetic,
                "defaults": {"step_timeout": "1s"},
                "storefronts": {"shop": {"extends": "demo", "base_url": url}},
                "journeys": [{"journey": "product-to-checkout", "storefront": "shop"}],
            }
        )
    )
    result = run_cli("run-smoke", "--config", str(config))
    # the page has no add-to-cart button: the journey fails after the product page loaded
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PASS  open product page" in result.stdout
    assert seen, "the shop saw no request"
    for headers in seen:
        assert headers.get(header) == value
        agent = headers["User-Agent"]
        assert agent.endswith(f"checkout-monitor/{__version__} {suffix}")
        assert "HeadlessChrome" not in agent
