"""The status page over a big run history: how long ``/``, ``/?range=30d`` and one journey's
detail over 30 days take through the real listener, and how big the file is.

The history is seeded straight into the real schema with ``executemany`` in one transaction
(the writer's one transaction per run would take most of an hour): by default 20 journeys x
8 steps every 5 minutes for 30 days, 172,800 runs and 1,382,400 steps, with one run in 50
failed. ``--every 60`` is the agent's shortest default interval (864,000 runs). Each page is
asked ``--times`` times; the median and the slowest are printed. It asserts nothing.

    .venv/bin/python tests/benchmarks/bench_status_page.py [--every 300] [--times 5]
        [--history PATH]   # seeded once there and kept, to measure again without seeding
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from checkout_monitor.agent.status_data import JourneyInfo
from checkout_monitor.agent.status_page import StatusSources, status_pages
from checkout_monitor.agent.status_server import Readiness, StatusServer
from checkout_monitor.history.schema import connect

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
STEPS = [
    "open product page",
    "check product images",
    "add to cart",
    "open cart",
    "apply discount",
    "enter address",
    "choose shipping",
    "pay",
]


def seed(path: Path, journeys: list[str], every: int, days: int) -> int:
    """Runs of every journey every ``every`` seconds over ``days`` up to NOW; how many."""
    rng = random.Random(16)
    end = NOW.timestamp()
    start = end - days * 86_400
    connection = connect(path)
    connection.execute("PRAGMA synchronous = OFF")
    runs: list[tuple[object, ...]] = []
    steps: list[tuple[object, ...]] = []
    run_id = 0
    moment = start
    while moment < end:
        for journey in journeys:
            run_id += 1
            durations = [rng.uniform(0.2, 1.5) for _ in STEPS]
            failed = rng.random() < 0.02
            total = sum(durations)
            runs.append(
                (
                    run_id, journey, "shop", "bench", moment, moment + total,
                    "failed" if failed else "passed", 0 if failed else 1, total, 1,
                    "site" if failed else None, "payment_declined" if failed else None,
                    "pay" if failed else None, "card declined" if failed else "",
                    f"run-{run_id}/{journey}/attempt-1" if failed else None, None, "serve",
                )
            )  # fmt: skip
            last = len(STEPS) - 1
            steps += [
                (
                    run_id, position, name,
                    "failed" if failed and position == last else "passed",
                    durations[position],
                    "payment_declined" if failed and position == last else None,
                )
                for position, name in enumerate(STEPS)
            ]  # fmt: skip
        moment += every
    connection.execute("BEGIN")
    connection.executemany(f"INSERT INTO runs VALUES ({', '.join('?' * 17)})", runs)
    connection.executemany("INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?)", steps)
    connection.execute("COMMIT")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return run_id


def count_runs(path: Path) -> int:
    connection = connect(path, read_only=True)
    try:
        return int(connection.execute("SELECT count(*) FROM runs").fetchone()[0])
    finally:
        connection.close()


def time_page(client: httpx.Client, url: str, times: int) -> tuple[float, float, str, int]:
    """Median and slowest seconds, the status code (or why there was none) and the size of
    the answer. The listener ends a request after 10 s: then there is no answer at all."""
    took: list[float] = []
    status, size = "", 0
    for _ in range(times):
        started = time.perf_counter()
        try:
            answer = client.get(url)
            status, size = f"HTTP {answer.status_code}", len(answer.content)
        except httpx.HTTPError as exc:
            status = f"no answer: {exc}"
        took.append(time.perf_counter() - started)
    return statistics.median(took), max(took), status, size


def main(journey_count: int, every: int, days: int, times: int, kept: Path | None) -> None:
    journeys = [f"journey-{n:02d}" for n in range(journey_count)]
    with tempfile.TemporaryDirectory() as folder:
        history = kept or Path(folder) / "history.sqlite3"
        if history.exists():
            runs, seeded = count_runs(history), "kept from before"
        else:
            started = time.perf_counter()
            runs = seed(history, journeys, every, days)
            seeded = f"seeded in {time.perf_counter() - started:.1f} s"
        size = sum(p.stat().st_size for p in history.parent.glob(history.name + "*"))
        print(
            f"history: {journey_count} journeys x {len(STEPS)} steps every {every} s for "
            f"{days} days = {runs:,} runs, {runs * len(STEPS):,} steps; "
            f"{size / 2**20:.1f} MiB; {seeded}"
        )
        sources = StatusSources(
            journeys=lambda: [JourneyInfo(name, "Shop team") for name in journeys],
            history_path=lambda: history,
            history_problem=lambda: None,
            artifacts_root=lambda: Path(folder) / "artifacts",
            clock=lambda: NOW + timedelta(minutes=1),
        )
        server = StatusServer(
            "127.0.0.1", 0, CollectorRegistry(), Readiness(), web_pages=status_pages(sources)
        ).start()
        try:
            with httpx.Client(base_url=f"http://{server.address}", timeout=300) as client:
                for path in (
                    "/",
                    "/?range=7d",
                    "/?range=30d",
                    f"/?journey={journeys[0]}&range=24h",
                    f"/?journey={journeys[0]}&range=30d",
                ):
                    median, slowest, status, size = time_page(client, path, times)
                    print(
                        f"{path:36} median {median * 1000:8.0f} ms, slowest "
                        f"{slowest * 1000:8.0f} ms ({status}, {size / 1024:.0f} KiB)"
                    )
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=20)
    parser.add_argument("--every", type=int, default=300, help="seconds between runs")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--times", type=int, default=5, help="requests per page")
    parser.add_argument("--history", type=Path, help="seed here once and keep it")
    arguments = parser.parse_args()
    main(arguments.journeys, arguments.every, arguments.days, arguments.times, arguments.history)
