"""Usage mistakes and broken surroundings: a plain one-screen message and exit code 2."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from checkout_monitor.demo_shop import DemoShop
from support.cli_support import BIN, EXAMPLE_ENV, REPO, run_cli, write_shop_config

StartShop = Callable[..., DemoShop]


def _assert_usage_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.splitlines()) <= 24


def test_no_config_says_how_to_give_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "run-smoke")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "CHECKOUT_MONITOR_CONFIG"},
        check=False,
    )
    _assert_usage_error(result, "no config given: use --config PATH")
    assert "--demo" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "payment-declines"], "--fault only works with --demo"),
        (["--demo", "--config", "config.example.yaml"], "use either --demo or --config"),
        (["--demo", "--fault", "payment-broken"], "invalid choice: 'payment-broken'"),
        (["--demo", "--journey", "guest-checkout"], "no journey named 'guest-checkout'"),
        (["--demo-theme", "dark", "--demo"], "invalid choice: 'dark'"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--demo", "--step-timeout", "0.1s"], "'0.1s': must be between 0.5s and 10m"),
        (["--demo", "--step-timeout", "5"], "'5' is not a duration: use a number with a unit"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    _assert_usage_error(run_cli("run-smoke", *args), message)


def test_unknown_journey_lists_the_configured_ones() -> None:
    result = run_cli("run-smoke", "--demo", "--journey", "nope")
    _assert_usage_error(result, "configured: product-to-checkout")


def test_checkout_monitor_smoke_is_run_smoke() -> None:
    result = run_cli("checkout-monitor", "smoke", "--fault", "out-of-stock")
    _assert_usage_error(result, "--fault only works with --demo")
    assert result.stderr.startswith("checkout-monitor: ")


def test_missing_browser_executable(tmp_path: Path) -> None:
    result = run_cli(
        "run-smoke", "--demo", env={"CHECKOUT_MONITOR_CHROMIUM": "/nonexistent/chrome"}
    )
    _assert_usage_error(result, "the browser executable '/nonexistent/chrome' does not exist")


def test_broken_journey_file_names_file_and_line(tmp_path: Path) -> None:
    monitors = tmp_path / "monitors"
    monitors.mkdir()
    (monitors / "broken.py").write_text("from checkout_monitor import journey\n\nx = (\n")
    result = run_cli("run-smoke", "--demo", "--monitors", str(monitors))
    _assert_usage_error(result, f"{monitors / 'broken.py'}:3: failed to load: SyntaxError")


def test_journey_script_error_is_the_monitors_fault(tmp_path: Path) -> None:
    monitors = tmp_path / "monitors"
    monitors.mkdir()
    for other in ("product_images.py", "discount_codes.py", "payment_sandbox.py"):
        shutil.copy(REPO / "monitors" / other, monitors)  # the demo config's other journeys
    (monitors / "typo.py").write_text(
        "from checkout_monitor import JourneyRun, journey\n\n"
        '@journey("product-to-checkout")\n'
        "async def run(run: JourneyRun) -> None:\n"
        '    async with run.step("open product page"):\n'
        "        await run.shop.open_produkt()\n"
    )
    report = tmp_path / "r.json"
    result = run_cli(
        "run-smoke", "--demo", "--monitors", str(monitors), "--json", str(report),
        "--journey", "product-to-checkout",
    )  # fmt: skip
    assert result.returncode == 1
    assert "journey_error" in result.stdout
    assert "This is a problem of the monitor itself, not of the shop." in result.stdout
    (journey,) = json.loads(report.read_text())["journeys"]
    assert journey["failure_class"] == "monitor"
    assert "open_produkt" in journey["steps"][0]["message"]
    assert "typo.py:6" in journey["steps"][0]["message"]


def test_unwritable_json_report_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli(
        "run-smoke", "--demo", "--journey", "product-to-checkout",
        "--json", str(blocker / "report.json"),
    )  # fmt: skip
    _assert_usage_error(result, "could not write the JSON report")
    assert "ALL PASSED" in result.stdout  # the results were still shown


@pytest.mark.parametrize(
    ("command", "what"),
    [(["schema"], "the schema"), (["rules", "--config", "config.example.yaml"], "the rules")],
)
def test_a_generated_file_that_cannot_be_written_is_a_usage_error(
    tmp_path: Path, command: list[str], what: str
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli(
        "checkout-monitor", *command, "--output", str(blocker / "out"), env=EXAMPLE_ENV
    )
    _assert_usage_error(result, f"could not write {what} to {blocker / 'out'}: ")
    assert result.stdout == ""  # nothing half-printed instead


def test_validate_ok_for_the_example_config() -> None:
    result = run_cli(
        "checkout-monitor",
        "validate",
        "config.example.yaml",
        env=EXAMPLE_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert "config.example.yaml: OK: 4 journeys, 1 storefronts, location eu-west-1" in result.stdout


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_validate_refuses_a_device_without_reading_it(device: str) -> None:
    """Audit finding 10: ``validate /dev/zero`` read until memory ran out (3.8 GB in 10 s)."""
    result = run_cli("checkout-monitor", "validate", device, timeout=30)
    _assert_usage_error(
        result,
        f"{device}: not a regular file but a character device: give the path of a YAML config file",
    )


def test_validate_refuses_a_fifo_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)
    result = run_cli("checkout-monitor", "validate", str(fifo), timeout=30)  # never hangs
    _assert_usage_error(
        result,
        f"{fifo}: not a regular file but a FIFO (named pipe): give the path of a YAML config file",
    )


def test_validate_refuses_a_folder(tmp_path: Path) -> None:
    result = run_cli("checkout-monitor", "validate", str(tmp_path), timeout=30)
    _assert_usage_error(
        result, f"{tmp_path}: not a regular file but a folder: give the path of a YAML config file"
    )


def test_validate_refuses_a_file_over_1_mib_before_parsing_it(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * (1024 * 1024 - 2) + b"\n")  # one byte over, all comment
    result = run_cli("checkout-monitor", "validate", str(big), timeout=30)
    _assert_usage_error(
        result,
        f"{big}: too large for a config file: 1,048,577 bytes, and the limit is 1 MiB "
        "(1,048,576 bytes); is it the right file?",
    )
    big.write_bytes(b"# " + b"x" * (1024 * 1024 - 3) + b"\n")  # at the limit: read, parsed
    _assert_usage_error(
        run_cli("checkout-monitor", "validate", str(big), timeout=30), f"{big}: the file is empty"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_demo_shop_command_serves_until_sigterm(tmp_path: Path) -> None:
    port, sandbox_port = _free_port(), _free_port()
    shop = subprocess.Popen(
        [
            str(BIN / "checkout-monitor"),
            "demo-shop",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
            "--admin-token",
            "t0ken",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "demo shop did not come up"
            time.sleep(0.1)
        busy = run_cli(
            "checkout-monitor",
            "demo-shop",
            "--port",
            str(port),
            "--sandbox-port",
            str(_free_port()),
        )
        _assert_usage_error(busy, f"cannot listen on 127.0.0.1:{port}")

        class Stub:  # the running shop, as write_shop_config needs it
            shop_url = url
            sandbox_url = f"http://127.0.0.1:{sandbox_port}"
            sandbox_public_url = f"http://pay.localhost:{sandbox_port}"
            admin_token = "t0ken"

        config = write_shop_config(tmp_path / "c.yaml", Stub())  # type: ignore[arg-type]
        result = run_cli("run-smoke", "--config", str(config))
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        shop.send_signal(signal.SIGTERM)
        out, _ = shop.communicate(timeout=20)
    assert shop.returncode == 0
    assert f"demo shop (classic) at {url}" in out


@pytest.mark.parametrize("listen", ["9115", "127.0.0.1:70000", "localhost"])
def test_serve_refuses_a_bad_listen_address(listen: str) -> None:
    result = run_cli("checkout-monitor", "serve", "--demo", "--listen", listen)
    _assert_usage_error(result, f"--listen: {listen!r} is not HOST:PORT")


def test_serve_refuses_an_unwritable_alert_state_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    config = write_shop_config(tmp_path / "c.yaml", _NoShop())  # type: ignore[arg-type]
    config.write_text(config.read_text() + f"alerting:\n  state_dir: {blocker}/state\n")
    result = run_cli(
        "checkout-monitor", "serve", "--config", str(config), "--listen", "127.0.0.1:1"
    )
    _assert_usage_error(
        result,
        f"{config}: alerting.state_dir: cannot write the alert state in {blocker}/state: "
        "Not a directory; choose a writable folder",
    )


class _NoShop:
    """No shop is needed to fail before the first run; the config still names one."""

    shop_url = "http://127.0.0.1:9"
    sandbox_url = "http://127.0.0.1:9"
    sandbox_public_url = "http://pay.localhost:9"
    admin_token = "t0ken"
