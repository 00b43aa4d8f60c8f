"""`run-smoke --pushgateway URL`: a CI run's metrics, pushed under a grouping key."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, push_to_gateway

from checkout_monitor.errors import UsageError
from checkout_monitor.metrics import Metrics
from checkout_monitor.results import JourneyResult

JOB = "checkout-monitor"


def push_results(
    url: str, results: Sequence[JourneyResult], location: str, instance: str
) -> dict[str, str]:
    """Push one run's series; the grouping key replaces what that key held before."""
    registry = CollectorRegistry()
    metrics = Metrics(registry, location)
    for result in results:
        metrics.observe(result)
    grouping_key = {"location": location, "instance": instance}
    try:
        push_to_gateway(url, job=JOB, registry=registry, grouping_key=grouping_key, timeout=10)
    except OSError as exc:  # URLError and HTTPError are OSErrors
        raise UsageError(f"could not push the metrics to the Pushgateway at {url}: {exc}") from None
    return {"job": JOB, **grouping_key}
