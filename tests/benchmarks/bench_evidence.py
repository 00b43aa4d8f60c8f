"""What evidence costs a passing journey: `product-to-checkout` with no artifacts store, with
one (listeners only: what every passing run pays), and with a trace on every attempt
(`artifacts.traces: always`, recorded and then dropped).

Same Chromium, same demo shop, a fresh context per run; runs alternate so drift on a noisy
machine hits every case alike. Prints figures and the ratios; it asserts nothing about time.

    .venv/bin/python tests/benchmarks/bench_evidence.py [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from alternating import time_rotating
from playwright.async_api import async_playwright

from checkout_monitor.browser.launch import ContextFactory, launch_browser
from checkout_monitor.config.demo import demo_config
from checkout_monitor.config.model import BrowserConfig
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.evidence.artifacts import ArtifactStore
from checkout_monitor.run.monitors_loader import default_monitors_dir, load_monitors
from checkout_monitor.run.plan import plan_journeys
from checkout_monitor.run.runner import JourneyRunner

NONE, LISTENERS, TRACED = "no evidence", "evidence listeners", "listeners + trace"


async def main(runs: int) -> None:
    with DemoShop() as shop, tempfile.TemporaryDirectory() as folder:
        loaded = demo_config(shop)
        (planned,) = plan_journeys(
            loaded, load_monitors(default_monitors_dir()), ["product-to-checkout"]
        )
        store = ArtifactStore(Path(folder), keep_runs=1, max_bytes=10**9)
        async with async_playwright() as playwright:
            browser = await launch_browser(playwright, BrowserConfig())
            contexts = ContextFactory(browser, loaded.config.browser, loaded.config.synthetic)
            plain = JourneyRunner(contexts, "bench")
            recording = JourneyRunner(contexts, "bench", artifacts=store.start_run())

            def case(runner: JourneyRunner, trace: bool) -> Callable[[], Awaitable[None]]:
                async def run() -> None:
                    result = await runner.run(planned, trace=trace)
                    assert result.ok, result.steps
                    assert result.evidence is None

                return run

            cases = [
                (NONE, case(plain, False)),
                (LISTENERS, case(recording, False)),
                (TRACED, case(recording, True)),
            ]
            timings = await time_rotating(cases, runs)
            await browser.close()
        assert not any(Path(folder).iterdir()), "a passing journey wrote evidence"

    print(f"product-to-checkout on the demo shop, {runs} runs each, fresh context per run")
    for name, values in timings.items():
        print(
            f"  {name:<19} median {statistics.median(values) * 1000:7.0f} ms   "
            f"mean {statistics.mean(values) * 1000:7.0f} ms   "
            f"min {min(values) * 1000:7.0f} ms"
        )
    base = statistics.median(timings[NONE])
    for name in (LISTENERS, TRACED):
        print(f"  ratio (median, {name} / {NONE}): {statistics.median(timings[name]) / base:.3f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    asyncio.run(main(parser.parse_args().runs))
