"""Whole process: `run-smoke` against a bare Playwright script doing the same clicks.

What a person waits for, from exec to exit: `run-smoke --config CFG --journey
product-to-checkout` and `bare_checkout.py` (the same clicks and requests, hand-written,
without checkout_monitor), each a new process against one demo shop, interleaved after one
warm-up each. Prints median, min and max of each and the ratio of the medians (target: at
most 1.00x), then the medians of the quick commands (`checkout-monitor --version`,
`validate config.example.yaml`, `run-smoke --list`) and the import time of the CLI. It
asserts nothing about time; a run that fails stops the benchmark.

    .venv/bin/python tests/benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for support.*

from checkout_monitor.demo_shop import DemoShop
from support.cli_support import EXAMPLE_ENV, write_shop_config

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BARE = Path(__file__).resolve().with_name("bare_checkout.py")
BARE_NAME = "bare_checkout.py (bare Playwright)"
SMOKE_NAME = "run-smoke --journey product-to-checkout"
IMPORT_NAME = 'python -X importtime -c "import checkout_monitor.cli"'
_IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| (\S.*)$")


class RunFailed(Exception):
    pass


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from exec to exit; a non-zero exit invalidates the benchmark."""
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=env, check=False)
    took = time.perf_counter() - start
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-15:]
        raise RunFailed(
            f"{' '.join(argv)} exited {result.returncode}; the benchmark is void:\n  "
            + "\n  ".join(output)
        )
    return took


def interleaved(
    cases: dict[str, list[str]], runs: int, env: dict[str, str]
) -> dict[str, list[float]]:
    """One warm-up each (page cache, .pyc files), then ABAB...: drift hits both alike."""
    for argv in cases.values():
        timed(argv, env)
    timings: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, argv in cases.items():
            timings[name].append(timed(argv, env))
    return timings


def import_time_us(env: dict[str, str]) -> int:
    """Cumulative µs of the top-level ``checkout_monitor.cli`` line of ``-X importtime``."""
    argv = [sys.executable, "-X", "importtime", "-c", "import checkout_monitor.cli"]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=env, check=False)
    if result.returncode != 0:
        raise RunFailed(f"{' '.join(argv)} exited {result.returncode}:\n{result.stderr[-2000:]}")
    for line in result.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match and match[2] == "checkout_monitor.cli":
            return int(match[1])
    raise RunFailed("-X importtime printed no top-level checkout_monitor.cli line")


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp, DemoShop() as shop:
        config = str(write_shop_config(Path(tmp) / "config.yaml", shop))
        env = {**os.environ, "NO_COLOR": "1", "CHECKOUT_MONITOR_ARTIFACTS_DIR": tmp}
        bare = [sys.executable, str(BARE), shop.shop_url, "--admin-token", shop.admin_token]
        smoke = [str(BIN / "run-smoke"), "--config", config, "--journey", "product-to-checkout"]
        journey = interleaved({BARE_NAME: bare, SMOKE_NAME: smoke}, runs, env)

        quick = {
            "checkout-monitor --version": ([str(BIN / "checkout-monitor"), "--version"], 0.15),
            "checkout-monitor validate config.example.yaml": (
                [str(BIN / "checkout-monitor"), "validate", "config.example.yaml"],
                0.35,
            ),
            "run-smoke --config CFG --list": (
                [str(BIN / "run-smoke"), "--config", config, "--list"],
                None,
            ),
        }
        quick_env = {**env, **EXAMPLE_ENV}
        medians = {}
        for name, (argv, _target) in quick.items():
            timed(argv, quick_env)  # warm-up
            medians[name] = statistics.median(timed(argv, quick_env) for _ in range(runs))
        imports = statistics.median(import_time_us(env) for _ in range(runs))

    print(
        f"product-to-checkout on one demo shop, whole process from exec to exit, "
        f"{runs} interleaved runs each (after one warm-up each)"
    )
    print(f"  {'':<40} {'median':>9} {'min':>9} {'max':>9}")
    for name, values in journey.items():
        print(
            f"  {name:<40} {statistics.median(values) * 1000:6.0f} ms "
            f"{min(values) * 1000:6.0f} ms {max(values) * 1000:6.0f} ms"
        )
    ratio = statistics.median(journey[SMOKE_NAME]) / statistics.median(journey[BARE_NAME])
    print(f"  ratio (median, run-smoke / bare): {ratio:.2f}x   target: at most 1.00x")
    print()
    print(f"quick commands, median of {runs} runs each (after one warm-up)")
    for name, (_argv, target) in quick.items():
        aim = f"target: <= {target:.2f} s" if target is not None else ""
        print(f"  {name:<50} {medians[name]:5.2f} s   {aim}".rstrip())
    print(f"  {IMPORT_NAME:<50} {imports / 1000:5.0f} ms   (cumulative, median)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    try:
        main(parser.parse_args().runs)
    except RunFailed as failure:
        sys.exit(f"bench_startup: {failure}")
