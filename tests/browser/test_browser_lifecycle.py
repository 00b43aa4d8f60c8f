"""The agent's browser over a long life, watched from outside as an operator would: Chromium
SIGKILLed mid-journey, browsers recycled after their runs and above a memory budget, and the
agent's own health on /metrics. `serve` runs as a subprocess against a real demo shop."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from checkout_monitor.browser.process_stats import chromium_roots, descendants, read_processes
from checkout_monitor.config.loader import load_config
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.errors import ConfigError
from support.agent_process import AgentProcess
from support.cli_support import run_cli, write_shop_config
from support.prometheus_servers import wait_until
from support.shop_http import held_product_pages

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TAG = "CHECKOUT_MONITOR_TEST_TAG"  # every process the agent starts inherits it, orphans too
LAB = {"location": "test-lab"}
CHECKOUT = {"journey": "product-to-checkout", **LAB}


def value(text: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """A sample's value from a /metrics text, None if it is not there."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == (labels or {}):
                return sample.value
    return None


def tagged_processes(tag: str, but: int) -> list[tuple[int, str]]:
    """Processes (PID, name) whose environment carries ``tag``, other than the agent."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == but:
            continue
        try:
            if f"{TAG}={tag}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                found.append((int(entry.name), (entry / "comm").read_text().strip()))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def start_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: Path, *args: str
) -> tuple[AgentProcess, str]:
    # runs still going when the test is done are cut short at stop: it need not wait for them
    config.write_text(config.read_text() + "agent:\n  grace_period: 1s\n")
    tag = uuid.uuid4().hex
    monkeypatch.setenv(TAG, tag)
    return AgentProcess(["--config", str(config), "--interval", "1s", *args], tmp_path), tag


def stop_and_check_nothing_left(agent: AgentProcess, tag: str) -> None:
    """A clean exit, no traceback, and no Chromium (crash handlers included) left behind."""
    try:
        code, _took = agent.stop()
    finally:
        agent.kill()  # only if SIGTERM did not end it
    assert code == 0, agent.output()
    assert "Traceback" not in agent.output()
    left: list[tuple[int, str]] = []

    def none_left() -> bool:
        left[:] = tagged_processes(tag, agent.process.pid)
        return not left

    try:
        wait_until(none_left, 15, "the agent's processes to end")
    except AssertionError:
        raise AssertionError(f"processes left after the agent stopped: {left}") from None


def two_journeys(config: Path) -> None:
    """Journeys "a" and "b", both product-to-checkout: two runs in flight at once."""
    document = yaml.safe_load(config.read_text())
    document["journeys"] = [
        {"journey": "product-to-checkout", "name": name, "storefront": "shop"}
        for name in ("a", "b")
    ]
    config.write_text(yaml.safe_dump(document))


def runs(text: str, journey: str, result: str) -> float:
    return (
        value(text, "checkout_journey_runs_total", {"journey": journey, **LAB, "result": result})
        or 0
    )


def test_chromium_killed_mid_journey_is_started_again_once_and_the_next_runs_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop()
    held = held_product_pages(shop)
    # retries: 1 (the default) shows a crash is not retried: a retry would hide it
    config = write_shop_config(
        tmp_path / "c.yaml", shop, defaults={"step_timeout": "15s", "retries": 1}
    )
    two_journeys(config)
    shop.faults.enable("slow-product-page", delay_seconds=30)
    agent, tag = start_agent(tmp_path, monkeypatch, config)
    try:
        for _journey in ("a", "b"):  # both first runs are loading their product page
            assert held.acquire(timeout=30), "the runs did not reach the product page"
        roots = chromium_roots(read_processes(), agent.process.pid)
        assert len(roots) == 1, roots
        os.kill(roots[0], signal.SIGKILL)
        shop.faults.disable("slow-product-page")
        before = agent.metrics()

        def crashed_then_passed(journey: str) -> bool:
            text = agent.metrics()
            crash = {"journey": journey, **LAB, "kind": "browser_crash", "class": "monitor"}
            return value(text, "checkout_journey_failures_total", crash) == 1 and runs(
                text, journey, "success"
            ) > runs(before, journey, "success")

        wait_until(lambda: all(map(crashed_then_passed, ("a", "b"))), 60, "a crash, then a pass")
        agent.metrics()
        time.sleep(1.2)  # a zombie counts once seen for a second: two reads a second apart
        text = agent.metrics()
        # two runs met the dead browser; it was started again once
        assert value(text, "checkout_browser_restarts_total", LAB) == 1
        for journey in ("a", "b"):
            labels = {"journey": journey, **LAB}
            assert value(text, "checkout_journey_success", labels) == 1
            assert runs(text, journey, "failure") == 1
            # the crashed attempt was not retried, so nothing passed "on a retry"
            failed = {**labels, "result": "failure"}
            assert value(text, "checkout_journey_attempts_total", failed) == 1
            assert value(text, "checkout_journey_flaky_total", labels) is None
            # the shop is not blamed: its count of failures in a row stays 0
            assert value(text, "checkout_journey_consecutive_failures", labels) == 0
        assert value(text, "checkout_agent_zombie_processes", LAB) == 0
        assert agent.client.get(f"{agent.url}/readyz").status_code == 200
        new_roots = chromium_roots(read_processes(), agent.process.pid)
        assert len(new_roots) == 1 and new_roots != roots, new_roots
        assert "FAILED at step 'open product page' (browser_crash, monitor)" in agent.output()
        assert agent.output().count("the browser is gone (crashed or killed)") == 1
    finally:
        stop_and_check_nothing_left(agent, tag)


def test_browsers_are_recycled_after_their_runs_and_none_is_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop()
    config = write_shop_config(tmp_path / "c.yaml", shop, defaults={"step_timeout": "15s"})
    two_journeys(config)
    config.write_text(config.read_text() + "browser:\n  recycle_after_runs: 1\n")  # fresh each run
    agent, tag = start_agent(tmp_path, monkeypatch, config)
    browsers_seen: set[int] = set()
    most_at_once = 0

    def recycled_and_both_passed() -> bool:
        nonlocal most_at_once
        roots = chromium_roots(read_processes(), agent.process.pid)
        browsers_seen.update(roots)
        most_at_once = max(most_at_once, len(roots))
        text = agent.metrics()
        recycles = value(text, "checkout_browser_recycles_total", {"reason": "runs", **LAB})
        return (recycles or 0) >= 2 and all(runs(text, j, "success") for j in ("a", "b"))

    try:
        wait_until(recycled_and_both_passed, 60, "two recycles and a pass of each journey")
        text = agent.metrics()
        for journey in ("a", "b"):  # no run was cut off by a browser closing under it
            assert runs(text, journey, "failure") == 0
        assert value(text, "checkout_browser_restarts_total", LAB) == 0
        # shown from the start (so increase() sees the first), and still 0
        assert value(text, "checkout_browser_recycles_total", {"reason": "memory", **LAB}) == 0
        # polled every 0.2 s, a browser that served one short run can slip between polls:
        # the recycles counter proves three browsers; the polls that two were seen apart
        assert len(browsers_seen) >= 2, browsers_seen
        # the current browser, one more per run in flight (two at most), and one closing
        assert most_at_once <= 4, most_at_once
        current = set(chromium_roots(read_processes(), agent.process.pid))
        wait_until(
            lambda: not (browsers_seen - current) & set(read_processes()),
            30,
            "replaced browsers to be closed",
        )
        assert "starting a fresh browser: the current one has served" in agent.output()
    finally:
        stop_and_check_nothing_left(agent, tag)


def test_a_browser_over_its_memory_budget_is_recycled_and_the_agents_health_is_on_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop()
    config = write_shop_config(tmp_path / "c.yaml", shop, defaults={"step_timeout": "15s"})
    # a budget every Chromium is over: its processes' summed RSS is several hundred MiB
    config.write_text(config.read_text() + "browser:\n  recycle_above_mib: 256\n")
    agent, tag = start_agent(tmp_path, monkeypatch, config)
    memory = {"reason": "memory", **LAB}
    try:
        wait_until(
            lambda: (value(agent.metrics(), "checkout_browser_recycles_total", memory) or 0) >= 1,
            60,
            "a recycle for memory",
        )
        wait_until(
            lambda: value(agent.metrics(), "checkout_journey_success", CHECKOUT) == 1,
            60,
            "a pass",
        )
        assert "over browser.recycle_above_mib (256 MiB)" in agent.output()
        assert "FAILED" not in agent.output()
        agent.metrics()
        time.sleep(1.2)  # a zombie counts once seen for a second: two reads a second apart
        text = agent.metrics()
        chromium = [p for p in descendants(read_processes(), agent.process.pid) if p.is_chromium]
        browsers = value(text, "checkout_browser_processes", LAB) or 0
        assert browsers >= 3  # the browser, its zygotes, a renderer at least
        assert abs(browsers - len(chromium)) <= 3  # tabs come and go between the two reads
        assert 100e6 < (value(text, "checkout_browser_resident_memory_bytes", LAB) or 0) < 20e9
        assert value(text, "checkout_agent_zombie_processes", LAB) == 0
        assert 20e6 < (value(text, "process_resident_memory_bytes") or 0) < 4e9
        assert 3 <= (value(text, "process_open_fds") or 0) < 1000
        ticks = value(text, "checkout_agent_scheduler_lag_seconds_count", LAB) or 0
        assert ticks >= 4  # a tick every 0.25s
        lag = value(text, "checkout_agent_scheduler_last_lag_seconds", LAB)
        assert lag is not None and 0 <= lag < 10
        checked = subprocess.run(
            ["promtool", "check", "metrics"],
            input=text,
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        stop_and_check_nothing_left(agent, tag)


BAD_RECYCLE_SETTINGS = [
    (
        {"recycle_after_runs": 0},
        "{file}:2: browser.recycle_after_runs: Input should be greater than or equal to 1 (got 0)",
    ),
    (
        {"recycle_above_mib": 100},
        "{file}:2: browser.recycle_above_mib: Input should be greater than or equal to 256 (got 100)",  # noqa: E501
    ),
    (
        {"recycle_after_runs": "often"},
        "{file}:2: browser.recycle_after_runs: Input should be a valid integer, unable to parse string as an integer (got 'often')",  # noqa: E501
    ),
]


def bad_config(path: Path, shop: DemoShop, browser: dict[str, object]) -> Path:
    config = write_shop_config(path, shop)
    document = yaml.safe_load(config.read_text())
    config.write_text(yaml.safe_dump({"browser": browser, **document}, sort_keys=False))
    return config


@pytest.mark.parametrize(("browser", "message"), BAD_RECYCLE_SETTINGS)
def test_bad_recycle_settings_name_the_field_and_what_is_valid(
    tmp_path: Path, browser: dict[str, object], message: str, start_shop: Callable[..., DemoShop]
) -> None:
    config = bad_config(tmp_path / "c.yaml", start_shop(), browser)
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert caught.value.render() == message.format(file=config)


def test_a_bad_recycle_setting_is_exit_2_without_traceback(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    config = bad_config(tmp_path / "c.yaml", start_shop(), {"recycle_after_runs": 0})
    result = run_cli("checkout-monitor", "serve", "--config", str(config))
    assert result.returncode == 2
    assert "browser.recycle_after_runs: Input should be greater" in result.stderr
    assert "Traceback" not in result.stderr
