"""Alert latency: from the run that crosses a rule's threshold to the notification at the
receiver, sent directly (webhook) and through Debian's real Alertmanager (group_wait 0s).
Both channels are fed by the same transitions in the same run. Prints figures; asserts
nothing about time.

    .venv/bin/python tests/benchmarks/bench_alert_latency.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import CollectorRegistry

from checkout_monitor.alerting.service import Alerting
from checkout_monitor.config.loader import parse_config
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.results import JourneyResult, StepResult, StepStatus
from support.alert_receivers import AlertReceiver
from support.alertmanager_server import Alertmanager

EPISODES = 10

CONFIG = """
storefronts:
  shop: {{extends: demo, base_url: "http://127.0.0.1:9"}}
journeys:
  - {{journey: product-to-checkout, storefront: shop}}
alerting:
  state_dir: state
  min_firing: 0s
  min_resolved: 0s
  rules:
    - {{name: checkout-failing, consecutive_failures: 1}}
  channels:
    direct: {{webhook: {{url: "{receiver}/direct"}}}}
    alertmanager: {{alertmanager: {{url: "{alertmanager}"}}}}
"""


def run(ok: bool) -> JourneyResult:
    step = StepResult("pay", StepStatus.PASSED, 0.5)
    if not ok:
        step = StepResult("pay", StepStatus.FAILED, 0.5, FailureKind.PAYMENT_DECLINED, "declined")
    return JourneyResult(
        "product-to-checkout", "product-to-checkout", "shop", "local",
        datetime.now(UTC), 1.0, (step,),
    )  # fmt: skip


async def arrival(receiver: AlertReceiver, path: str, count: int) -> float:
    while sum(1 for r in receiver.requests if r.path == path) < count:
        await asyncio.sleep(0.005)
    return time.perf_counter()


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, AlertReceiver() as receiver:
        alertmanager = Alertmanager(Path(tmp), f"{receiver.url}/alertmanager").start()
        try:
            loaded = parse_config(
                CONFIG.format(receiver=receiver.url, alertmanager=alertmanager.url),
                "bench",
                Path(tmp),
                {},
            )
            alerting = Alerting(loaded, Metrics(CollectorRegistry(), "local"), None)
            await alerting.start()
            direct: list[float] = []
            through: list[float] = []
            for episode in range(1, EPISODES + 1):
                crossed = time.perf_counter()
                alerting.observe(run(ok=False))  # the threshold-crossing run
                # each episode is one firing and one resolved notification per channel
                d, a = await asyncio.gather(
                    arrival(receiver, "/direct", 2 * episode - 1),
                    arrival(receiver, "/alertmanager", 2 * episode - 1),
                )
                direct.append(d - crossed)
                through.append(a - crossed)
                alerting.observe(run(ok=True))
                await asyncio.gather(
                    arrival(receiver, "/direct", 2 * episode),
                    arrival(receiver, "/alertmanager", 2 * episode),
                )
            await alerting.stop()
        finally:
            alertmanager.stop()

    def ms(values: list[float]) -> str:
        ordered = sorted(values)
        p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
        return f"median {statistics.median(values) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"

    print(f"alert latency, threshold-crossing run -> receiver, {EPISODES} episodes")
    print(f"  direct webhook:          {ms(direct)}")
    print(f"  through Alertmanager:    {ms(through)}")
    ratio = statistics.median(through) / statistics.median(direct)
    print(f"  Alertmanager / direct:   {ratio:.1f}x (median)")


if __name__ == "__main__":
    asyncio.run(main())
