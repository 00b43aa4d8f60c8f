"""Agent throughput: `checkout-monitor serve` against one demo shop with
`agent.max_concurrent_journeys` 1, 2 and 4, each for a fixed window. Prints completed
journeys per minute and CPU seconds per journey, split into the agent's own Python process,
the Playwright driver (node) and Chromium (and Chromium by process type), plus the wall
time per journey spent waiting (no process of the agent's running: the shop, timers), and the
memory of the agent's tree with that many contexts open (RSS and PSS by kind, and Chromium's
renderers), from which the memory each context adds follows. Then
profiles the agent (cProfile on its main thread, clocked in CPU time, the level-2 case once
more) to show where our own code spends its CPU. Asserts nothing about time.

    .venv/bin/python tests/benchmarks/bench_throughput.py [--seconds 60] [--levels 1,2,4]
        [--journeys 8] [--profile-seconds 60 | --no-profile | --profile-only]
        [--profile-out agent.prof]

The agent runs `--journeys` copies of `product-to-checkout` (each under its own name) at a
1 s interval, so a free slot always finds a journey due. CPU times come from /proc: each
process of the agent's tree (its own utime+stime) and what each has reaped of its exited
children (cutime+cstime: a closed context's renderer, a recycled browser), read after a
warm-up (one run per slot) and at the end of the window. The demo shop runs in this
process; its CPU is shown apart, and so is the load of everything else on the machine."""

from __future__ import annotations

import argparse
import os
import pstats
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for support.*

from bench_soak import totals  # the soak's reading of /metrics, the same here

from checkout_monitor.browser.process_stats import PROC, read_tree
from checkout_monitor.demo_shop import DemoShop
from support.cli_support import write_shop_config

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TAG = "CHECKOUT_MONITOR_THROUGHPUT_TAG"  # inherited by every process the agent starts
TICKS = os.sysconf("SC_CLK_TCK")
KINDS = ("agent", "driver", "chromium", "other")
GRACE_SECONDS = 10  # agent.grace_period: in-flight runs may finish, then are aborted
# Where each kind of process's reaped children belong: the agent starts the driver, the
# driver starts Chromium, Chromium starts (and its zygote reaps) Chromium.
REAPED_KIND = {"agent": "driver", "driver": "chromium", "chromium": "chromium", "other": "other"}


# --- the config ----------------------------------------------------------------------------


def write_config(path: Path, shop: DemoShop, folder: Path, level: int, journeys: int) -> Path:
    write_shop_config(
        path,
        shop,
        # generous timeouts: 4 journeys on 2 cores are slow, and a timeout is not a result
        defaults={"step_timeout": "15s", "journey_timeout": "90s", "retries": 0},
    )
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    (journey,) = document["journeys"]
    document["journeys"] = [
        {**journey, "name": f"checkout-{n}"} for n in range(1, journeys + 1)
    ]  # interval: --interval 1s (the config's own floor is 10s)
    document["agent"] = {
        "max_concurrent_journeys": level,
        "grace_period": f"{GRACE_SECONDS}s",
    }
    document["artifacts"] = {"dir": str(folder / "artifacts")}
    document["alerting"] = {"enabled": False, "state_dir": str(folder / "state")}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def validate(config: Path) -> None:
    result = subprocess.run(
        [str(BIN / "checkout-monitor"), "validate", str(config)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"the benchmark's config is not valid:\n{result.stdout}{result.stderr}")


# --- reading /proc -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cpu:
    """CPU seconds by kind of process, Chromium's by its process type, and the agent's main
    thread apart."""

    by_kind: dict[str, float]
    chromium: dict[str, float]
    agent_main_thread: float

    def __sub__(self, other: Cpu) -> Cpu:
        types = {*self.chromium, *other.chromium}
        return Cpu(
            {k: self.by_kind[k] - other.by_kind[k] for k in KINDS},
            {t: self.chromium.get(t, 0.0) - other.chromium.get(t, 0.0) for t in types},
            self.agent_main_thread - other.agent_main_thread,
        )


def _stat_times(path: Path) -> tuple[float, float] | None:
    """(own utime+stime, reaped children's cutime+cstime) in seconds, or None if gone."""
    try:
        text = path.read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # fields[0] is field 3 (state) of proc(5)
    try:
        own = int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
        reaped = int(fields[13]) + int(fields[14])  # fields 16, 17: cutime, cstime
    except (IndexError, ValueError):
        return None
    return own / TICKS, reaped / TICKS


def _kind(pid: int, root: int, name: str) -> tuple[str, str]:
    """The kind of process, and for Chromium its --type (utility: its sub-type)."""
    if pid == root:
        return "agent", ""
    try:
        # Chromium rewrites its command line as one string: split at spaces too
        argv = (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split()
    except OSError:
        argv = []
    program = Path(argv[0]).name if argv else name
    if name.startswith("node") or program == "node":
        return "driver", ""
    if name.startswith(("chromium", "chrome", "headless_shell")) or "chrom" in program:
        options = dict(arg[2:].partition("=")[::2] for arg in argv if arg.startswith("--"))
        kind = options.get("type", "browser")
        if kind == "utility":  # network.mojom.NetworkService -> NetworkService
            kind = options.get("utility-sub-type", kind).rpartition(".")[2] or kind
        return "chromium", kind
    return "other", ""


def read_cpu(root: int) -> Cpu:
    """Everything the agent's tree has used so far: each live process's own CPU, by its kind,
    and what it has reaped of its exited children, by theirs. A process that exits between two
    reads moves from its own line to its parent's reaped CPU, so the difference of two reads
    counts it once; one not reaped by a process of the tree (re-parented to init) is lost."""
    totals = dict.fromkeys(KINDS, 0.0)
    chromium: dict[str, float] = {}
    for pid, info in read_tree(root).items():
        times = _stat_times(PROC / str(pid) / "stat")
        if times is None:
            continue
        kind, chromium_type = _kind(pid, root, info.name)
        totals[kind] += times[0]
        totals[REAPED_KIND[kind]] += times[1]
        if kind == "chromium":
            chromium[chromium_type] = chromium.get(chromium_type, 0.0) + times[0]
            # a zygote reaps the renderers of closed contexts (those alive at the first read
            # are subtracted under "renderer" there); the browser its other children
            exited = "renderer" if chromium_type == "zygote" else "exited children"
            chromium[exited] = chromium.get(exited, 0.0) + times[1]
        elif kind == "driver":
            chromium["browser (exited)"] = chromium.get("browser (exited)", 0.0) + times[1]
    main = _stat_times(PROC / str(root) / "task" / str(root) / "stat")
    return Cpu(totals, chromium, main[0] if main else 0.0)


class IdleSampler:
    """How often no thread of the agent's tree is running or waiting for a CPU (state R):
    every `period` s, each thread's state from /proc/PID/task/TID/stat, the list of threads
    read afresh each second. Its own CPU is kept apart, so that the shop's figure leaves it
    out."""

    def __init__(self, root: int, period: float = 0.1) -> None:
        self._root, self._period = root, period
        self._stop = threading.Event()
        self.samples = self.idle = 0
        self.cpu = 0.0
        self._thread = threading.Thread(target=self._run, name="idle-sampler", daemon=True)

    def __enter__(self) -> IdleSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def share(self) -> float:
        return self.idle / self.samples if self.samples else float("nan")

    def _threads(self) -> list[Path]:
        paths: list[Path] = []
        for pid in read_tree(self._root):
            try:
                paths += [task / "stat" for task in (PROC / str(pid) / "task").iterdir()]
            except OSError:
                continue  # gone meanwhile
        return paths

    @staticmethod
    def _any_running(threads: list[Path]) -> bool:
        for path in threads:
            try:
                if path.read_text().rpartition(")")[2].split(maxsplit=1)[0] == "R":
                    return True
            except (OSError, IndexError):
                continue
        return False

    def _run(self) -> None:
        started = time.thread_time()
        threads: list[Path] = []
        listed = next_sample = time.monotonic()
        while not self._stop.is_set():
            if not threads or time.monotonic() - listed > 1:
                threads, listed = self._threads(), time.monotonic()
            self.samples += 1
            self.idle += not self._any_running(threads)
            next_sample += self._period
            self._stop.wait(max(0.0, next_sample - time.monotonic()))
        self.cpu = time.thread_time() - started


def _pss_bytes(pid: int) -> int | None:
    """Proportional set size: a shared page counted once over the processes sharing it (RSS
    counts it in each of Chromium's processes), so the sum of a tree is its real footprint."""
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


@dataclass
class Memory:
    """The agent's tree, sampled about once a second over the window: mean and peak of the
    sums of RSS and PSS by kind of process, and how many renderers (open pages) Chromium had."""

    samples: int = 0
    rss_sum: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    pss_sum: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    pss_peak: float = 0.0
    renderers_sum: int = 0

    def sample(self, root: int) -> None:
        rss, pss = dict.fromkeys(KINDS, 0), dict.fromkeys(KINDS, 0)
        renderers = 0
        for pid, info in read_tree(root).items():
            proportional = _pss_bytes(pid)
            if proportional is None:
                continue  # gone meanwhile
            kind, chromium_type = _kind(pid, root, info.name)
            rss[kind] += info.rss_bytes
            pss[kind] += proportional
            renderers += chromium_type == "renderer"
        self.samples += 1
        for kind in KINDS:
            self.rss_sum[kind] += rss[kind]
            self.pss_sum[kind] += pss[kind]
        self.pss_peak = max(self.pss_peak, float(sum(pss.values())))
        self.renderers_sum += renderers

    def mean_mib(self, sums: dict[str, float], kind: str) -> float:
        return sums[kind] / self.samples / 2**20 if self.samples else float("nan")

    @property
    def renderers(self) -> float:
        return self.renderers_sum / self.samples if self.samples else float("nan")


def everything_else(exclude: set[int]) -> dict[tuple[int, str], tuple[str, float]]:
    """Every other live process's own CPU seconds so far, by PID and start time: the
    difference of two reads shows who else kept the machine busy (one that ends in between
    is missed; the machine's own count, from /proc/stat, misses nothing)."""
    found: dict[tuple[int, str], tuple[str, float]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) in exclude:
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        head, _, rest = text.rpartition(")")
        fields = rest.split()
        try:
            own = (int(fields[11]) + int(fields[12])) / TICKS
            found[int(entry.name), fields[19]] = (head.partition("(")[2], own)
        except (IndexError, ValueError):
            continue
    return found


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    total = sum(values[:8])  # guest time is already in user
    return (total - idle) / TICKS, total / TICKS


def this_process_cpu() -> float:
    times = os.times()
    return times.user + times.system


# --- the agent -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Agent:
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    tag: str

    def metrics(self) -> dict[str, float]:
        """Every sample name summed over its label sets; failed runs apart."""
        return totals(httpx.get(f"{self.url}/metrics", timeout=10).text)

    def alive_or_exit(self) -> None:
        if self.process.poll() is not None:
            sys.exit(f"the agent exited ({self.process.returncode}):\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def start_agent(argv: list[str], config: Path, folder: Path, name: str) -> Agent:
    port = free_port()
    log = folder / f"{name}.log"
    tag = uuid.uuid4().hex
    process = subprocess.Popen(
        [*argv, "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}",
         "--interval", "1s"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=folder, start_new_session=True,
        env={**os.environ, TAG: tag, "NO_COLOR": "1",
             "CHECKOUT_MONITOR_ARTIFACTS_DIR": str(folder / "artifacts")},
    )  # fmt: skip
    agent = Agent(process, f"http://127.0.0.1:{port}", log, tag)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        agent.alive_or_exit()
        try:
            if httpx.get(f"{agent.url}/readyz", timeout=5).status_code == 200:
                return agent
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    stop_agent(agent)
    sys.exit(f"the agent did not get ready in 90 s:\n{agent.tail()}")


def warm_up(agent: Agent, runs: int) -> None:
    """Until `runs` journey runs have finished: the browser and its caches are warm."""
    deadline = time.monotonic() + 180
    while agent.metrics().get("checkout_journey_runs_total", 0.0) < runs:
        agent.alive_or_exit()
        if time.monotonic() > deadline:
            stop_agent(agent)
            sys.exit(f"no {runs} journey runs within 180 s:\n{agent.tail()}")
        time.sleep(0.5)


def tagged_processes(tag: str) -> list[int]:
    """Processes still carrying this agent's tag in their environment: nothing should."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if f"{TAG}={tag}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def stop_agent(agent: Agent) -> tuple[int | None, list[str]]:
    """SIGTERM, wait out the grace period; then whatever the agent left behind is killed by
    PID (its session, if the agent itself did not exit). Returns the exit code and the
    processes that had to be killed."""
    code: int | None = None
    if agent.process.poll() is None:
        agent.process.send_signal(signal.SIGTERM)
    try:
        code = agent.process.wait(timeout=GRACE_SECONDS + 60)
    except subprocess.TimeoutExpired:
        os.killpg(agent.process.pid, signal.SIGKILL)  # its own session: only what it started
        agent.process.wait(timeout=10)
    killed: list[str] = []
    for _ in range(10):  # Chromium's crash handler outlives its browser by a moment
        left = tagged_processes(agent.tag)
        if not left:
            break
        time.sleep(0.5)
    for pid in tagged_processes(agent.tag):
        try:
            killed.append(f"{pid} {(PROC / str(pid) / 'comm').read_text().strip()}")
            os.kill(pid, signal.SIGKILL)
        except OSError:
            continue
    return code, killed


# --- one level -----------------------------------------------------------------------------


@dataclass
class Window:
    level: int
    seconds: float
    cpu: Cpu
    runs: float
    failed: float
    duration_sum: float
    lag_mean: float
    idle_share: float  # of the window, no thread of the agent's tree running or runnable
    shop_cpu: float
    sampler_cpu: float
    machine_busy: float
    machine_all: float
    others: dict[str, float]
    memory: Memory = field(default_factory=Memory)
    exit_code: int | None = None
    killed: list[str] = field(default_factory=list)
    log_has_traceback: bool = False

    def per_journey(self, seconds: float) -> float:
        return seconds / self.runs if self.runs else float("nan")

    def share(self, part: float, whole: float) -> float:
        return part / whole if whole else float("nan")

    @property
    def contexts_open(self) -> float:
        """Mean contexts open over the window: each run holds one for its duration."""
        return self.duration_sum / self.seconds if self.seconds else float("nan")

    @property
    def tree_cpu(self) -> float:
        return sum(self.cpu.by_kind.values())


def measure(
    agent: Agent,
    level: int,
    seconds: float,
    before: Callable[[], None] = lambda: None,
    after: Callable[[], None] = lambda: None,
) -> Window:
    root = agent.process.pid
    start_metrics = agent.metrics()
    before()
    start_tree = set(read_tree(root))
    start_others = everything_else({*start_tree, os.getpid()})
    start_cpu, start_shop = read_cpu(root), this_process_cpu()
    start_busy, start_all = machine_busy_seconds()
    started = time.monotonic()
    memory = Memory()
    with IdleSampler(root) as sampler:
        while time.monotonic() < started + seconds:
            agent.alive_or_exit()
            memory.sample(root)
            time.sleep(max(0.0, min(1.0, started + seconds - time.monotonic())))
    end_cpu, end_shop = read_cpu(root), this_process_cpu()
    end_busy, end_all = machine_busy_seconds()
    took = time.monotonic() - started
    end_others = everything_else({*start_tree, *read_tree(root), os.getpid()})
    after()
    end_metrics = agent.metrics()

    def delta(name: str) -> float:
        return end_metrics.get(name, 0.0) - start_metrics.get(name, 0.0)

    others: dict[str, float] = {}
    for key, (name, used) in end_others.items():
        before = start_others.get(key, (name, 0.0))[1]
        others[name] = others.get(name, 0.0) + used - before
    lag_count = delta("checkout_agent_scheduler_lag_seconds_count")
    return Window(
        level=level,
        seconds=took,
        cpu=end_cpu - start_cpu,
        runs=delta("checkout_journey_runs_total"),
        failed=delta("failed_runs"),
        duration_sum=delta("checkout_journey_duration_seconds_sum"),
        lag_mean=delta("checkout_agent_scheduler_lag_seconds_sum") / lag_count
        if lag_count
        else 0.0,
        idle_share=sampler.share,
        shop_cpu=end_shop - start_shop - sampler.cpu,
        sampler_cpu=sampler.cpu,
        machine_busy=end_busy - start_busy,
        machine_all=end_all - start_all,
        others=others,
        memory=memory,
    )


def run_level(
    argv: list[str], shop: DemoShop, folder: Path, level: int, seconds: float, journeys: int
) -> Window:
    config = write_config(folder / f"level-{level}.yaml", shop, folder, level, journeys)
    agent = start_agent(argv, config, folder, f"level-{level}")
    try:
        warm_up(agent, level)
        window = measure(agent, level, seconds)
    finally:
        code, killed = stop_agent(agent)
    window.exit_code, window.killed = code, killed
    window.log_has_traceback = "Traceback" in agent.log.read_text(errors="replace")
    return window


def print_table(windows: list[Window]) -> None:
    print(f"\n  {'':>7}  {'':>12}  {'CPU s per journey':^35}  {'s/journey':>9}")
    print(
        f"  {'at once':>7}  {'journeys/min':>12}  {'agent':>8} {'driver':>8} {'chromium':>8}"
        f" {'total':>8}  {'waiting':>9}  {'agent share':>11}"
    )
    for w in windows:
        cpu = {k: w.per_journey(v) for k, v in w.cpu.by_kind.items()}
        print(
            f"  {w.level:>7}  {w.runs / w.seconds * 60:>12.1f}  {cpu['agent']:>8.3f}"
            f" {cpu['driver']:>8.3f} {cpu['chromium']:>8.3f} {w.per_journey(w.tree_cpu):>8.3f}"
            f"  {w.per_journey(w.duration_sum) * w.idle_share:>9.3f}"
            f"  {w.share(w.cpu.by_kind['agent'], w.tree_cpu):>11.1%}"
        )
    print("\n  Chromium's CPU s per journey by process type:")
    for w in windows:
        parts = sorted(w.cpu.chromium.items(), key=lambda item: -item[1])
        print(
            f"  {w.level:>7}  "
            + ", ".join(f"{t} {w.per_journey(v):.3f}" for t, v in parts if v >= 0.0005)
        )
    print_memory(windows)
    print(
        f"\n  {'at once':>7}  {'runs':>5} {'failed':>6}  {'window':>7}  {'run wall':>8}"
        f"  {'slots busy':>10}  {'tree idle':>9}  {'CPU/wall':>8}  {'machine busy':>12}"
        f"  {'shop CPU':>8}"
        f"  {'agent main thr.':>15}  {'sched. lag':>10}  {'exit':>4}  left behind"
    )
    for w in windows:
        wall = w.per_journey(w.duration_sum)
        print(
            f"  {w.level:>7}  {int(w.runs):>5} {int(w.failed):>6}  {w.seconds:>5.0f} s"
            f"  {wall:>6.2f} s  {w.share(w.duration_sum, w.seconds * w.level):>10.0%}"
            f"  {w.idle_share:>9.1%}  {w.share(w.per_journey(w.tree_cpu), wall):>7.2f}x"
            f"  {w.share(w.machine_busy, w.machine_all):>12.0%}"
            f"  {w.per_journey(w.shop_cpu):>6.3f} s"
            f"  {w.share(w.cpu.agent_main_thread, w.cpu.by_kind['agent']):>15.0%}"
            f"  {w.lag_mean * 1000:>7.1f} ms  {w.exit_code!s:>4}  {len(w.killed)}"
            + (f" ({', '.join(w.killed)})" if w.killed else "")
            + ("  Traceback in the log!" if w.log_has_traceback else "")
        )
    print()
    for w in windows:
        accounted = w.tree_cpu + w.shop_cpu + w.sampler_cpu
        other = w.cpu.by_kind["other"]
        rest = sorted(w.others.items(), key=lambda item: -item[1])
        print(
            f"  {w.level} at once: machine busy {w.machine_busy:.1f} of {w.machine_all:.1f}"
            f" CPU s ({w.share(w.machine_busy, w.machine_all):.0%}): agent tree"
            f" {w.tree_cpu:.1f}, shop {w.shop_cpu:.1f}, sampler {w.sampler_cpu:.1f},"
            f" everything else {w.machine_busy - accounted:.1f} (largest: "
            + ", ".join(f"{name} {value:.1f}" for name, value in rest[:3])
            + ")"
            + (f"; other processes in the agent's tree {other:.2f}" if other > 0.01 else "")
        )


def print_memory(windows: list[Window]) -> None:
    """Memory with N contexts open, and what one more context adds: the slope of PSS over the
    mean number of contexts open (run time over the window: a run holds one context), from
    the lowest level to the highest."""
    print(
        f"\n  memory, mean over the window (MiB){'':>15}PSS{'':>32}RSS"
        f"\n  {'at once':>7}  {'contexts':>8} {'renderers':>9}  {'agent':>7} {'driver':>7}"
        f" {'chromium':>8} {'total':>7} {'peak':>7}  {'agent':>7} {'driver':>7} {'chromium':>8}"
    )
    for w in windows:
        m = w.memory
        pss = {k: m.mean_mib(m.pss_sum, k) for k in KINDS}
        rss = {k: m.mean_mib(m.rss_sum, k) for k in KINDS}
        print(
            f"  {w.level:>7}  {w.contexts_open:>8.2f} {m.renderers:>9.2f}  {pss['agent']:>7.0f}"
            f" {pss['driver']:>7.0f} {pss['chromium']:>8.0f} {sum(pss.values()):>7.0f}"
            f" {m.pss_peak / 2**20:>7.0f}  {rss['agent']:>7.0f} {rss['driver']:>7.0f}"
            f" {rss['chromium']:>8.0f}"
        )
    low, high = windows[0], windows[-1]
    opened = high.contexts_open - low.contexts_open
    if opened < 0.5:
        return
    for label, kinds in (("Chromium's", ("chromium",)), ("the whole tree's", KINDS)):
        at_low, at_high = (
            sum(w.memory.mean_mib(w.memory.pss_sum, k) for k in kinds) for w in (low, high)
        )
        per_context = (at_high - at_low) / opened
        print(
            f"\n  {label} PSS per open context: {per_context:.0f} MiB; with none open"
            f" (extrapolated): {at_low - per_context * low.contexts_open:.0f} MiB"
        )


EXPLAINED = (
    "\n  CPU s per journey: from /proc (utime+stime) of each process of the agent's tree by"
    " its kind, plus what each reaped of its exited children (the agent's: the driver's; the"
    " driver's and Chromium's: Chromium's), over the window, divided by the journey runs"
    " completed in it. waiting: a run's mean wall time (run wall) x the share of 10 Hz"
    " samples in which no thread of the tree was running or runnable (tree idle): the shop's"
    " answers, timers. CPU/wall over 1x: the processes work side by side. slots busy: run"
    " time over window x slots. shop CPU: the demo shop's (in this process), per journey, not"
    " in the total. agent main thr.: the share of the agent's CPU on its main thread, the one"
    " cProfile sees. memory: PSS (a page shared by several processes counted once) and RSS"
    " (counted in each), summed by kind, sampled once a second; contexts: the mean open (run"
    " time over the window); renderers: Chromium's renderer processes (a page and its frames"
    " of another site each have one, and Chromium keeps a spare)."
)


# --- the profile ---------------------------------------------------------------------------


def _where(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    path = filename
    for marker in ("/site-packages/", "/src/", "/lib/python3.11/"):
        if marker in filename:
            path = filename.split(marker, 1)[1]
            break
    return f"{path}:{line}({name})"


def _area(filename: str) -> str:
    if "/checkout_monitor/" in filename:
        return "checkout_monitor"
    for area in ("playwright", "asyncio", "prometheus_client", "pyee", "greenlet"):
        if f"/{area}/" in filename:
            return area
    if filename == "~":
        return "built-ins (C)"
    return "other Python"


def print_profile(path: Path, window: Window) -> None:
    """Times are the main thread's CPU (the profiler's clock is time.thread_time): waiting in
    epoll costs next to nothing, and a thread waiting for a core is not charged."""
    table = pstats.Stats(str(path)).stats  # {(file, line, function): (cc, calls, tt, ct, ..)}
    busy = sum(v[2] for v in table.values())
    print(
        f"\n  profile of the agent's main thread over the {window.seconds:.0f} s window:"
        f" {busy:.1f} CPU s as the profiler counts it (its own cost included); /proc says"
        f" the agent used {window.cpu.by_kind['agent']:.1f} CPU s,"
        f" {window.cpu.agent_main_thread:.1f} on its main thread (the one profiled)"
    )
    areas: dict[str, float] = {}
    for key, value in table.items():
        areas[_area(key[0])] = areas.get(_area(key[0]), 0.0) + value[2]
    print("\n  self time by where the code lives (share of the profiled CPU):")
    for area, value in sorted(areas.items(), key=lambda item: -item[1]):
        print(f"    {area:<20} {value:7.2f} s  {value / busy:6.1%}")

    Row = tuple[tuple[str, int, str], tuple[int, int, float, float, dict[Any, Any]]]

    def top(rows: list[Row], sort: int, title: str, callers: int = 0) -> None:
        print(f"\n  top 15 by {title}:")
        print(f"    {'self s':>7} {'%':>6} {'cum s':>7} {'%':>6} {'calls':>8}  function")
        for key, (_cc, calls, tt, ct, by) in sorted(rows, key=lambda r: -r[1][sort])[:15]:
            print(
                f"    {tt:7.2f} {tt / busy:6.1%} {ct:7.2f} {ct / busy:6.1%} {calls:>8}  "
                f"{_where(key)}"
            )
            if key[0] == "~" and tt / busy > 0.02 and callers:
                for caller, numbers in sorted(by.items(), key=lambda c: -c[1][2])[:callers]:
                    print(f"    {'':>40}  <- {numbers[2]:.2f} s from {_where(caller)}")

    rows: list[Row] = list(table.items())
    top(rows, 2, "self time (all code; built-ins over 2% with their main callers)", callers=3)
    # a function whose cumulative time holds everything (the event loop's callers) says
    # nothing: left out
    ours = [(k, v) for k, v in rows if "/checkout_monitor/" in k[0] and v[3] < 0.9 * busy]
    top(ours, 3, "cumulative time, checkout_monitor's own functions")
    top(ours, 2, "self time, checkout_monitor's own functions")


# Runs the CLI as its console script does, with a profiler that SIGUSR1 starts and SIGUSR2
# stops and writes out: the profile covers the measured window, not imports and start-up.
# Its clock is the main thread's CPU time.
PROFILED_CLI = """
import cProfile, signal, sys, time
from checkout_monitor.cli import main
profile, path = cProfile.Profile(time.thread_time), sys.argv[1]
def stop(*_):
    profile.disable()
    profile.dump_stats(path)
signal.signal(signal.SIGUSR1, lambda *_: profile.enable())
signal.signal(signal.SIGUSR2, stop)
sys.argv = ["checkout-monitor", *sys.argv[2:]]
sys.exit(main())
"""


def run_profile(
    shop: DemoShop, folder: Path, seconds: float, journeys: int, keep: Path | None
) -> None:
    """The level-2 case again, the agent's main thread under cProfile for the window."""
    level = 2
    prof = (keep or folder / "agent.prof").resolve()
    prof.unlink(missing_ok=True)
    config = write_config(folder / "profile.yaml", shop, folder, level, journeys)
    agent = start_agent(
        [str(BIN / "python"), "-c", PROFILED_CLI, str(prof)], config, folder, "profile"
    )
    try:
        warm_up(agent, level)
        window = measure(
            agent,
            level,
            seconds,
            before=lambda: agent.process.send_signal(signal.SIGUSR1),
            after=lambda: agent.process.send_signal(signal.SIGUSR2),
        )
        deadline = time.monotonic() + 30
        while not prof.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # written whole by now
    finally:
        code, killed = stop_agent(agent)
    print(
        f"\n  under cProfile, {level} at once: {window.runs / window.seconds * 60:.1f}"
        f" journeys/min, agent {window.per_journey(window.cpu.by_kind['agent']):.3f} CPU"
        f" s/journey (the profiler slows Python down); exit code {code}, left behind"
        f" {len(killed)}"
    )
    if not prof.exists():
        print(f"  no profile written:\n{agent.tail()}")
        return
    print_profile(prof, window)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="window per level (60)")
    parser.add_argument("--levels", default="1,2,4", help="max_concurrent_journeys (1,2,4)")
    parser.add_argument("--journeys", type=int, default=8, help="copies of product-to-checkout")
    parser.add_argument("--profile-seconds", type=float, default=60, help="cProfile window (60)")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    parser.add_argument("--profile-only", action="store_true", help="only the cProfile run")
    parser.add_argument(
        "--profile-out", type=Path, metavar="FILE", help="keep the profile (pstats format) here"
    )
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    if args.journeys < max(levels):
        parser.error("--journeys must be at least the highest level")

    print(
        f"throughput: serve, {args.journeys} x product-to-checkout at a 1 s interval, "
        f"{args.seconds:.0f} s per level; {os.cpu_count()} CPU cores, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    with DemoShop() as shop, tempfile.TemporaryDirectory(prefix="checkout-throughput-") as tmp:
        folder = Path(tmp)
        validate(write_config(folder / "check.yaml", shop, folder, max(levels), args.journeys))
        if not args.profile_only:
            windows = []
            for level in levels:
                print(f"  {level} at once ...", flush=True)
                argv = [str(BIN / "checkout-monitor")]
                windows.append(run_level(argv, shop, folder, level, args.seconds, args.journeys))
            print_table(windows)
            print(EXPLAINED)
        if not args.no_profile:
            run_profile(shop, folder, args.profile_seconds, args.journeys, args.profile_out)


if __name__ == "__main__":
    main()
