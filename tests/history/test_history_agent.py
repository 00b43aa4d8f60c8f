"""The run history with the real agent and run-smoke: runs recorded by `serve` survive
`kill -9`, a concurrent `run-smoke --history` loses none of either's runs, a locked database
never holds up the journeys, and a corrupt or read-only history costs the history, never the
monitoring."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from checkout_monitor.demo_shop import DemoShop
from support.agent_process import AgentProcess
from support.cli_support import BIN, REPO, run_cli, write_shop_config
from support.mount_faults import in_namespace, skip_unless_mountable
from support.prometheus_servers import free_port, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def history_config(tmp: Path, shop: DemoShop, history: Path) -> Path:
    path = write_shop_config(tmp / "config.yaml", shop)
    document = yaml.safe_load(path.read_text())
    document["history"] = {"path": str(history)}
    document["alerting"] = {"state_dir": str(tmp / "state")}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def count(path: Path, where: str = "1") -> int:
    """Runs in the history as another process sees them (read-only, never blocking)."""
    if not path.exists():
        return 0
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        return int(db.execute(f"SELECT count(*) FROM runs WHERE {where}").fetchone()[0])
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # made, its tables not yet committed
            return 0
        raise
    finally:
        db.close()


def sample(metrics: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(metrics):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_run_smoke_records_the_demo_runs_and_a_second_run_appends(tmp_path: Path) -> None:
    history = tmp_path / "ci" / "history.sqlite3"  # the folder does not exist yet
    args = ["--demo", "--journey", "product-to-checkout", "--history", str(history)]
    first = run_cli("run-smoke", *args, "--release", "v1.4.2")
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"1 run(s) recorded in the run history {history}" in first.stdout
    second = run_cli("run-smoke", *args)
    assert second.returncode == 0, second.stdout + second.stderr
    db = sqlite3.connect(history)
    rows = db.execute(
        "SELECT journey, status, source, release, (SELECT count(*) FROM steps WHERE run_id = id) "
        "FROM runs ORDER BY id"
    ).fetchall()
    db.close()
    assert [row[:4] for row in rows] == [
        ("product-to-checkout", "passed", "run-smoke", "v1.4.2"),
        ("product-to-checkout", "passed", "run-smoke", None),
    ]
    assert all(row[4] >= 3 for row in rows), rows  # each run with its steps


def test_run_smoke_says_when_it_cannot_record_and_keeps_its_verdict(tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite3"
    history.write_bytes(b"not a database\n" * 100)
    done = run_cli(
        "run-smoke", "--demo", "--journey", "product-to-checkout", "--history", str(history)
    )
    assert "product-to-checkout" in done.stdout and "PASSED" in done.stdout.upper()
    assert done.returncode == 2, done.stdout + done.stderr  # passed, but the history failed
    assert re.search(
        rf"run-smoke: run history not recorded in {re.escape(str(history))}: the file is not "
        r"a usable SQLite database.*\(corrupt: file is not a database\)",
        done.stderr,
    ), done.stderr
    assert done.stderr.count("run history not recorded") == 1
    assert "Traceback" not in done.stdout + done.stderr


def test_serve_history_survives_kill_9_and_a_concurrent_run_smoke(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop()
    history = tmp_path / "history.sqlite3"
    config = history_config(tmp_path, shop, history)
    serve_runs = "source = 'serve'"
    with AgentProcess(["--config", str(config), "--interval", "1s"], tmp_path) as agent:
        assert f"run history: {history}" in agent.output()
        wait_until(lambda: count(history, serve_runs) >= 2, 90, "two runs recorded by serve")
        # run-smoke writes the same file while serve goes on writing it
        smoke = run_cli("run-smoke", "--config", str(config), "--history", str(history))
        assert smoke.returncode == 0, smoke.stdout + smoke.stderr
        before = count(history, serve_runs)
        wait_until(lambda: count(history, serve_runs) >= before + 2, 90, "serve recording on")
        # every run the agent has counted is in the file: then kill it mid-schedule
        runs = sample(agent.metrics(), "checkout_journey_runs_total", result="success")
        wait_until(lambda: count(history, serve_runs) >= runs, 30, "the counted runs recorded")
        recorded = count(history, serve_runs)
        agent.process.send_signal(signal.SIGKILL)
        agent.process.wait(timeout=10)
        assert "Traceback" not in agent.output()
    db = sqlite3.connect(history)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        by_source = dict(db.execute("SELECT source, count(*) FROM runs GROUP BY source"))
        assert by_source["serve"] >= recorded >= runs >= 4
        assert by_source["run-smoke"] == 1
        # each run whole: its steps with it, and no id skipped (no run lost between writers)
        ids = [row[0] for row in db.execute("SELECT id FROM runs ORDER BY id")]
        assert ids == list(range(1, len(ids) + 1))
        stepless = db.execute(
            "SELECT count(*) FROM runs WHERE id NOT IN (SELECT run_id FROM steps)"
        ).fetchone()[0]
        assert stepless == 0
        assert db.execute("SELECT count(*) FROM runs WHERE status != 'passed'").fetchone() == (0,)
    finally:
        db.close()


def test_serve_prints_paths_from_the_environment_redacted(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    """``history.path: ${VAR}/...`` and ``alerting.state_dir: ${VAR}/...``: every value
    substituted is a secret, in the lines serve prints at start too."""
    folder = tmp_path / "h-9Xq2-private"
    config = history_config(tmp_path, start_shop(), Path("${HISTORY_FOLDER}/history.sqlite3"))
    document = yaml.safe_load(config.read_text())
    document["alerting"] = {"state_dir": "${HISTORY_FOLDER}/state"}
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    env = {"HISTORY_FOLDER": str(folder)}
    with AgentProcess(["--config", str(config), "--interval", "1s"], tmp_path, env=env) as agent:
        wait_until(lambda: count(folder / "history.sqlite3") >= 1, 90, "a run recorded")
        assert agent.stop()[0] == 0
    out = agent.output()
    assert "run history: <value from the environment>/history.sqlite3" in out, out
    assert "state in <value from the environment>/state" in out, out
    assert "h-9Xq2-private" not in out


def total(metrics: str, name: str) -> float:
    """A counter summed over all its label values."""
    return sum(
        s.value
        for family in text_string_to_metric_families(metrics)
        for s in family.samples
        if s.name == name
    )


def test_a_locked_history_never_holds_up_the_next_journey(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    """Another process holds the database locked: serve's journey keeps starting on its
    interval, its runs wait in the recorder's queue (one journey: runs finished but neither
    recorded nor failed can only pile up if nothing waits for the write), then land."""
    shop = start_shop()
    history = tmp_path / "history.sqlite3"
    config = history_config(tmp_path, shop, history)
    with AgentProcess(["--config", str(config), "--interval", "1s"], tmp_path) as agent:
        wait_until(lambda: count(history) >= 1, 90, "a first run recorded")

        def waiting() -> float:
            text = agent.metrics()  # first: the file can only have more runs than it says
            finished = total(text, "checkout_journey_runs_total")
            return finished - total(text, "checkout_history_write_errors_total") - count(history)

        holder = sqlite3.connect(history, isolation_level=None, timeout=30)
        holder.execute("BEGIN EXCLUSIVE")  # the agent's writer now waits on its busy timeout
        try:
            wait_until(lambda: waiting() >= 2, 90, "two finished runs waiting on the lock")
            recorded = count(history)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        wait_until(lambda: count(history) >= recorded + 2, 60, "the waiting runs written")
        text = agent.metrics()
        assert total(text, "checkout_history_write_errors_total") <= 1, text  # the one waiting
        assert sample(text, "checkout_history_write_errors_total", reason="queue_full") == 0
        assert agent.stop()[0] == 0
    assert "Traceback" not in agent.output()


@pytest.mark.parametrize(("fault", "reason"), [("corrupt", "corrupt"), ("read_only", "unwritable")])
def test_serve_keeps_monitoring_without_its_history(
    fault: str, reason: str, tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    """A corrupt file, or a folder on a read-only disk (a tmpfs in the agent's own mount
    namespace): logged once, counted per run, and the journeys keep running."""
    folder = tmp_path / "history"
    folder.mkdir()
    history = folder / "history.sqlite3"
    shop = start_shop()
    config = history_config(tmp_path, shop, history)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(BIN / "checkout-monitor"), "serve", "--config", str(config)]
    command += ["--listen", f"127.0.0.1:{port}", "--interval", "1s"]
    if fault == "corrupt":
        history.write_bytes(b"not a database\n" * 100)
    else:
        skip_unless_mountable(tmp_path / "probe")
        command = in_namespace("read_only", folder, command)
    out = (tmp_path / "agent.out").open("w+")
    agent = subprocess.Popen(
        command, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=os.environ
    )
    try:
        wait_until(lambda: httpx.get(f"{url}/readyz").status_code == 200, 60, "readyz")

        def metrics() -> str:
            return httpx.get(f"{url}/metrics", timeout=5).text

        wait_until(
            lambda: sample(metrics(), "checkout_history_write_errors_total", reason=reason) >= 3,
            90,
            f"three runs not recorded ({reason})",
        )
        text = metrics()
        assert sample(text, "checkout_journey_runs_total", result="success") >= 3
        assert sample(text, "checkout_history_writable") == 0
        assert httpx.get(f"{url}/readyz").status_code == 200  # still monitoring
        out.flush()
        log = Path(out.name).read_text()
        assert log.count(f"run history not recorded in {history}") == 1, log[-3000:]
        assert f"({reason}: " in log
        page = httpx.get(f"{url}/", timeout=10).text  # the status page says it too
        assert f'role="alert">run history not recorded in {history}: ' in page
        assert "<h3>product-to-checkout" in page
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=60) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(timeout=10)
        out.close()
    assert "Traceback" not in Path(out.name).read_text()
    if fault == "corrupt":
        assert history.read_bytes() == b"not a database\n" * 100
    else:
        assert list(folder.iterdir()) == []
