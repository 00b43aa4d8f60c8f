"""`checkout-monitor serve` with a real Prometheus scraping it and a real Pushgateway for
`run-smoke --pushgateway`; faults switched at run time through the demo shop's admin API."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from checkout_monitor.demo_shop import DemoShop
from support.agent_process import AgentProcess as Agent
from support.cli_support import run_cli, write_shop_config
from support.prometheus_servers import (
    free_port,
    query,
    start_prometheus,
    start_pushgateway,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def demo_agent(tmp_path: Path) -> Iterator[Agent]:
    agent = Agent(["--demo", "--interval", "2s"], tmp_path)
    try:
        yield agent
    finally:
        if agent.process.poll() is None:
            agent.process.kill()
            agent.process.wait(timeout=10)


def test_prometheus_scrapes_the_agent_and_sees_a_fault_come_and_go(
    demo_agent: Agent, tmp_path: Path
) -> None:
    header = demo_agent.output().splitlines()[0]
    shop_url = re.search(r"demo shop \(classic\) at (\S+),", header)
    token = re.search(r"admin token (\S+)", header)
    assert shop_url and token, header
    admin = httpx.Client(
        base_url=shop_url[1], headers={"Authorization": f"Bearer {token[1]}"}, timeout=10
    )
    assert httpx.get(f"{demo_agent.url}/healthz").text == "ok\n"

    prometheus = start_prometheus(tmp_path, f"127.0.0.1:{demo_agent.port}")
    try:
        checkout = '{journey="product-to-checkout",location="local"}'

        def value(promql: str) -> float | None:
            result = query(prometheus, promql)
            return float(result[0]["value"][1]) if result else None

        wait_until(lambda: value(f"checkout_journey_success{checkout}") == 1, 60, "a pass")
        assert value('checkout_build_info{version="0.1.0"}') == 1
        assert value("up") == 1

        admin.post("/admin/faults/payment-declines").raise_for_status()
        failures = (
            'checkout_step_failures_total{journey="product-to-checkout",step="pay",'
            'kind="payment_declined",class="site"}'
        )
        wait_until(lambda: (value(failures) or 0) >= 1, 60, "payment_declined failures")
        wait_until(lambda: value(f"checkout_journey_success{checkout}") == 0, 30, "success 0")

        admin.delete("/admin/faults/payment-declines").raise_for_status()
        wait_until(lambda: value(f"checkout_journey_success{checkout}") == 1, 60, "success again")
    finally:
        prometheus.stop()
        admin.close()

    text = demo_agent.metrics()
    checked = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    code, took = demo_agent.stop()
    assert code == 0
    assert took < 30 + 5  # the default grace period, and a little
    assert demo_agent.output().rstrip().endswith("stopped")
    assert "Traceback" not in demo_agent.output()


def test_reload_keeps_the_last_good_config(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop()
    config = write_shop_config(tmp_path / "c.yaml", shop, journey={"interval": "10s"})
    good = config.read_text()
    interval = 'checkout_journey_interval_seconds{journey="product-to-checkout",'
    runs = 'checkout_journey_runs_total{journey="product-to-checkout",'

    def value(series: str) -> float:
        found = re.findall(rf"^{re.escape(series)}.*\}} (\S+)$", agent.metrics(), re.MULTILINE)
        return sum(float(number) for number in found)

    agent = Agent(["--config", str(config)], tmp_path)
    try:
        assert 'checkout_config_reload_success{location="test-lab"} 1.0' in agent.metrics()
        assert value(interval) == 10
        # a new interval, and a typo that makes the whole file invalid
        changed = good.replace("interval: 10s", "interval: 20s")
        assert changed != good
        config.write_text(changed.replace("step_timeout", "step_timout"))
        agent.process.send_signal(signal.SIGHUP)
        wait_until(
            lambda: 'checkout_config_reload_success{location="test-lab"} 0.0' in agent.metrics(),
            20,
            "the failed reload to show",
        )
        assert httpx.get(f"{agent.url}/readyz").status_code == 200  # still monitoring
        assert "keeping the last good config" in agent.output()
        assert "step_timout: unknown key" in agent.output()
        # the old config still runs: its interval, and the journey on that schedule
        assert value(interval) == 10
        ran = value(runs)
        wait_until(lambda: value(runs) > ran, 40, "a run after the failed reload")
        assert value(interval) == 10

        config.write_text(changed)  # fixed: now the new interval takes
        agent.process.send_signal(signal.SIGHUP)
        wait_until(
            lambda: 'checkout_config_reload_success{location="test-lab"} 1.0' in agent.metrics(),
            20,
            "the good reload to show",
        )
        assert value(interval) == 20
    finally:
        code, _ = agent.stop()
    assert code == 0


def test_serve_with_a_bad_config_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"journeys": []}))
    result = run_cli("checkout-monitor", "serve", "--config", str(config))
    assert result.returncode == 2
    assert "journeys: List should have at least 1 item" in result.stderr


def test_run_smoke_pushes_to_a_real_pushgateway(tmp_path: Path) -> None:
    gateway = start_pushgateway(tmp_path)
    try:
        result = run_cli(
            "run-smoke", "--demo", "--journey", "product-to-checkout",
            "--pushgateway", gateway.url, "--push-instance", "ci-42", "--release", "v2.4.1",
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "job=checkout-monitor, location=local, instance=ci-42" in result.stdout
        pushed = httpx.get(f"{gateway.url}/metrics").text
        assert re.search(
            r'checkout_journey_success\{instance="ci-42",job="checkout-monitor",'
            r'journey="product-to-checkout",location="local",release="v2.4.1"\} 1',
            pushed,
        ), pushed[:2000]
    finally:
        gateway.stop()


def test_unreachable_pushgateway_is_exit_2_after_the_results() -> None:
    result = run_cli(
        "run-smoke", "--demo", "--journey", "product-to-checkout",
        "--pushgateway", f"http://127.0.0.1:{free_port()}",
    )  # fmt: skip
    assert result.returncode == 2
    assert "ALL PASSED" in result.stdout
    assert "could not push the metrics to the Pushgateway" in result.stderr


def test_sigterm_aborts_runs_still_going_after_the_grace_period(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop(
        faults=["slow-product-page"], fault_params={"slow-product-page": {"delay_seconds": 30}}
    )
    config = write_shop_config(
        tmp_path / "c.yaml", shop, defaults={"step_timeout": "25s", "journey_timeout": "60s"}
    )
    text = config.read_text() + "agent:\n  grace_period: 1s\n  max_concurrent_journeys: 1\n"
    config.write_text(text)
    agent = Agent(["--config", str(config), "--interval", "1s"], tmp_path)
    time.sleep(2)  # the first run is now waiting on the slow product page
    code, took = agent.stop()
    assert code == 0
    assert took < 1 + 8  # the grace period, then the abort and the browser's close
    assert "aborted 1 journey run(s) still going after the grace period" in agent.output()
    assert "Traceback" not in agent.output()
