"""What the alerting tests share: a config of one location and shop with alerting that
acts at once and retries fast, journey results built by hand, and waiting on a condition
inside the event loop (the agent's own loop: the alerting under test runs in it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent, indent

from checkout_monitor.config.loader import parse_config
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.results import JourneyResult, StepResult, StepStatus

JOURNEY = "product-to-checkout"
ONE_JOURNEY = f"- journey: {JOURNEY}\n  storefront: shop\n"
FAST_DELIVERY = "initial_backoff: 100ms\nmax_backoff: 1s\n"


def alerting_config(
    tmp: Path,
    *,
    rules: str,
    channels: str,
    journeys: str = ONE_JOURNEY,
    delivery: str = FAST_DELIVERY,
    environ: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """A config at location ``test-lab`` with alerting (state under ``tmp/state``, no flap
    control). ``rules``, ``channels``, ``journeys`` and ``delivery`` are the YAML under
    those keys, written from any indentation (it is dedented and put in place)."""
    text = "\n".join(
        [
            "location: test-lab",
            "storefronts:",
            "  shop:",
            "    extends: demo",
            "    base_url: http://127.0.0.1:9",
            "journeys:",
            _block(journeys, 2),
            "alerting:",
            "  state_dir: state",
            "  min_firing: 0s",
            "  min_resolved: 0s",
            "  delivery:",
            _block(delivery, 4),
            "  rules:",
            _block(rules, 4),
            "  channels:",
            _block(channels, 4),
        ]
    )
    return parse_config(text, "alerting.yaml", tmp, dict(environ or {}))


def _block(yaml: str, spaces: int) -> str:
    return indent(dedent(yaml).strip("\n"), " " * spaces)


def failed_step(
    kind: FailureKind = FailureKind.PAYMENT_DECLINED,
    message: str = "card declined",
    name: str = "pay",
) -> StepResult:
    return StepResult(name, StepStatus.FAILED, 0.8, kind, message)


def passed_step(name: str = "pay") -> StepResult:
    return StepResult(name, StepStatus.PASSED, 0.4)


def journey_result(when: float, *steps: StepResult, name: str = JOURNEY) -> JourneyResult:
    """A run of the demo journey ``name`` at shop ``shop`` that started at ``when``."""
    return JourneyResult(
        name=name,
        journey="product-to-checkout",
        storefront="shop",
        location="test-lab",
        started_at=datetime.fromtimestamp(when, UTC),
        duration_seconds=1.2,
        steps=steps,
    )


async def until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the event loop run until ``check()`` holds; fail after ``seconds``."""
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"gave up after {seconds:g}s waiting")
