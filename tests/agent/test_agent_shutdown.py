"""SIGTERM while a journey is running: the run finishes, its result is recorded, the agent
exits 0 within the grace period and leaves no Chromium behind.

(tests/agent/test_serve.py has the other case: a run that outlasts the grace period is aborted.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from checkout_monitor.demo_shop import DemoShop
from support.agent_process import AgentProcess
from support.cli_support import write_shop_config
from support.prometheus_servers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
GRACE = 30.0
PAGE_DELAY = 4.0  # the product page is held back this long: the run is surely in flight


def descendants(pid: int) -> dict[int, str]:
    """Every process under ``pid`` (children, grandchildren...), by PID, with its start time
    (so a PID reused later is not mistaken for one of them)."""
    parents: dict[int, int] = {}
    started: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        started[int(entry.name)] = fields[19]
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found[child] = started[child]
                frontier.append(child)
    return found


def still_running(processes: dict[int, str]) -> list[str]:
    alive = []
    for pid, started in processes.items():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[19] == started:
            alive.append(f"{pid} {stat[: stat.rindex(')') + 1]} state {fields[0]}")
    return alive


def test_sigterm_mid_journey_lets_the_run_finish_and_exits_0(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop(
        faults=["slow-product-page"],
        fault_params={"slow-product-page": {"delay_seconds": PAGE_DELAY}},
    )
    config = write_shop_config(
        tmp_path / "c.yaml", shop, defaults={"step_timeout": "15s", "journey_timeout": "25s"}
    )
    config.write_text(
        config.read_text() + f"agent:\n  grace_period: {GRACE:g}s\n  max_concurrent_journeys: 1\n"
    )
    with AgentProcess(["--config", str(config), "--interval", "1s"], tmp_path) as agent:
        # the first run starts within its jitter and waits on the slow product page
        wait_until(lambda: len(descendants(agent.process.pid)) >= 3, 30, "Chromium to start")
        time.sleep(1.5)
        chromium = descendants(agent.process.pid)
        assert any("chrom" in Path(f"/proc/{pid}/comm").read_text() for pid in chromium)
        assert "passed in" not in agent.output()  # still in flight

        code, took = agent.stop()
        output = agent.output()

    assert code == 0, output
    assert took < GRACE, f"took {took:.1f}s"
    assert "stopping: waiting up to 30s for 1 journey run(s)" in output
    assert "product-to-checkout passed in" in output  # the in-flight run finished
    assert "aborted" not in output
    assert output.rstrip().endswith("stopped")
    assert "Traceback" not in output
    # no Chromium (or anything else the agent started) outlives it
    wait_until(lambda: not still_running(chromium), 10, "the agent's children to go")
