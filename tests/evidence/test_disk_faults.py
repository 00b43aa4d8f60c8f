"""The artifacts folder full or read-only: the evidence is lost, never the monitoring.

Each test runs the real agent (or run-smoke) in its own mount namespace (`unshare`) with a
64 KiB tmpfs mounted over its artifacts folder: filled up for "disk full", remounted
read-only for "read-only". A journey that fails (the demo shop declines payments) then
tries to keep its evidence there. The mount exists only inside the namespace, so it goes
when the process does; the test checks that the host never saw it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from checkout_monitor.demo_shop import DemoShop
from support.cli_support import ARTIFACTS, BIN, REPO, write_shop_config
from support.mount_faults import in_namespace, mounted_here, skip_unless_mountable
from support.prometheus_servers import free_port, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOG_REASON = {
    "disk_full": "the disk is full: free space there or lower artifacts.max_megabytes "
    "(disk_full, No space left on device)",
    "read_only": "the folder is on a read-only file system: mount it writable "
    "(read_only, Read-only file system)",
}


@pytest.fixture(scope="module")
def can_mount(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skip, saying why, where this machine cannot make a mount namespace with a tmpfs."""
    skip_unless_mountable(tmp_path_factory.mktemp("mount-probe"))


def failing_config(tmp: Path, shop: DemoShop, artifacts: Path) -> Path:
    path = write_shop_config(tmp / "config.yaml", shop)
    document = yaml.safe_load(path.read_text())
    document["artifacts"] = {"dir": str(artifacts)}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def sample(metrics: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(metrics):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


@pytest.fixture
def artifacts(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "artifacts"
    folder.mkdir()
    yield folder
    assert not mounted_here(folder), "the test's tmpfs leaked out of its mount namespace"
    assert list(folder.iterdir()) == [], "the agent wrote past its tmpfs to the real folder"


@pytest.mark.parametrize("fault", ["disk_full", "read_only"])
def test_serve_reports_evidence_it_cannot_write_and_keeps_monitoring(
    fault: str,
    can_mount: None,
    artifacts: Path,
    tmp_path: Path,
    start_shop: Callable[..., DemoShop],
) -> None:
    shop = start_shop(faults=["payment-declines"])
    config = failing_config(tmp_path, shop, artifacts)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(BIN / "checkout-monitor"), "serve", "--config", str(config)]
    command += ["--listen", f"127.0.0.1:{port}", "--interval", "1s"]
    out = (tmp_path / "agent.out").open("w+")
    agent = subprocess.Popen(
        in_namespace(fault, artifacts, command), stdout=out, stderr=subprocess.STDOUT, cwd=REPO
    )

    def metrics() -> str:
        return httpx.get(f"{url}/metrics", timeout=5).text

    def output() -> str:
        out.flush()
        return Path(out.name).read_text()

    try:
        wait_until(lambda: httpx.get(f"{url}/readyz").status_code == 200, 60, "readyz")
        assert sample(metrics(), "checkout_artifacts_writable", location="test-lab") == 1
        # two failed runs that each lost their evidence: the first did not stop the second
        wait_until(
            lambda: sample(metrics(), "checkout_artifacts_write_errors_total", reason=fault) >= 2,
            90,
            f"two {fault} write errors",
        )
        text = metrics()
        failures = sample(
            text, "checkout_journey_runs_total", journey="product-to-checkout", result="failure"
        )
        assert failures >= 2
        assert sample(text, "checkout_artifacts_writable", location="test-lab") == 0
        assert (
            sample(
                text,
                "checkout_step_failures_total",
                journey="product-to-checkout",
                kind="payment_declined",
            )
            >= 2
        )
        for other in {"disk_full", "read_only", "permission_denied", "other"} - {fault}:
            assert sample(text, "checkout_artifacts_write_errors_total", reason=other) == 0
        assert agent.poll() is None
        assert httpx.get(f"{url}/readyz").status_code == 200  # still monitoring
        log = output()
        assert re.search(
            rf"evidence not kept in {re.escape(str(artifacts))}/\S+/product-to-checkout/"
            rf"attempt-1 \(([a-z.]+, )*screenshot.png(, [a-z.]+)*\): "
            rf"{re.escape(LOG_REASON[fault])}; monitoring goes on without it",
            log,
        ), log[-3000:]
        assert "product-to-checkout FAILED at step 'pay' (payment_declined" in log
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=60) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(timeout=10)
        out.close()
    assert "Traceback" not in Path(out.name).read_text()


def test_run_smoke_gives_its_verdict_on_a_read_only_artifacts_folder(
    can_mount: None, artifacts: Path, tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop(faults=["payment-declines"])
    config = failing_config(tmp_path, shop, artifacts)
    result = subprocess.run(
        in_namespace("read_only", artifacts, [str(BIN / "run-smoke"), "--config", str(config)]),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "NO_COLOR": "1", "CHECKOUT_MONITOR_ARTIFACTS_DIR": ARTIFACTS},
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr  # the journey failed
    assert "payment_declined" in result.stdout, result.stdout
    assert f"evidence not kept in {artifacts}/" in result.stderr, result.stderr
    assert "(read_only, Read-only file system)" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
