"""The four demo journeys on one browser: each in its own context, all at once, vs one after
another. Wall time per round; rounds alternate the order so drift hits both alike. Prints
figures and the speed-up; asserts nothing about time.

    .venv/bin/python tests/benchmarks/bench_parallel.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from pathlib import Path

from alternating import time_rotating
from playwright.async_api import async_playwright

from checkout_monitor.browser.launch import ContextFactory, launch_browser
from checkout_monitor.config.demo import demo_config
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.run.monitors_loader import default_monitors_dir, load_monitors
from checkout_monitor.run.plan import PlannedJourney, plan_journeys
from checkout_monitor.run.runner import JourneyRunner


async def one_after_another(runner: JourneyRunner, journeys: list[PlannedJourney]) -> None:
    for planned in journeys:
        result = await runner.run(planned)
        assert result.ok, (planned.name, result.steps)


async def all_at_once(runner: JourneyRunner, journeys: list[PlannedJourney]) -> None:
    results = await asyncio.gather(*(runner.run(planned) for planned in journeys))
    assert all(result.ok for result in results), [r.steps for r in results if not r.ok]


async def main(rounds: int) -> None:
    with DemoShop() as shop, tempfile.TemporaryDirectory() as state:
        loaded = demo_config(shop, state_dir=Path(state))
        journeys = plan_journeys(loaded, load_monitors(default_monitors_dir()))
        async with async_playwright() as playwright:
            browser = await launch_browser(playwright, loaded.config.browser)
            contexts = ContextFactory(browser, loaded.config.browser, loaded.config.synthetic)
            runner = JourneyRunner(contexts, "bench")
            timings = await time_rotating(
                [
                    ("one after another", lambda: one_after_another(runner, journeys)),
                    ("all at once", lambda: all_at_once(runner, journeys)),
                ],
                rounds,
            )
            await browser.close()

    names = ", ".join(planned.name for planned in journeys)
    print(f"{len(journeys)} journeys ({names}), {rounds} rounds, {os.cpu_count()} CPU cores")
    for name, values in timings.items():
        print(
            f"  {name:<18} median {statistics.median(values) * 1000:7.0f} ms   "
            f"min {min(values) * 1000:7.0f} ms   max {max(values) * 1000:7.0f} ms"
        )
    speedup = statistics.median(timings["one after another"]) / statistics.median(
        timings["all at once"]
    )
    print(f"  speed-up (median, one after another / all at once): {speedup:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
