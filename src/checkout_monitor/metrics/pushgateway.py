"""`run-smoke --pushgateway URL`: a CI run's metrics, pushed under a grouping key.

With ``--release``, every pushed series also carries ``release="<version>"``: the smoke
run is tied to the deploy it checked, while the grouping key (and so what the next push
replaces) stays the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, push_to_gateway
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from checkout_monitor.errors import UsageError
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.results import JourneyResult

JOB = "checkout-monitor"


class _WithLabels(Collector):
    """Every sample of ``registry``, with ``labels`` added."""

    def __init__(self, registry: CollectorRegistry, labels: dict[str, str]) -> None:
        self._registry = registry
        self._labels = labels

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            labelled = Metric(family.name, family.documentation, family.type, family.unit)
            for sample in family.samples:
                labelled.add_sample(
                    sample.name,
                    {**sample.labels, **self._labels},
                    sample.value,
                    sample.timestamp,
                    sample.exemplar,
                )
            yield labelled


def push_results(
    url: str,
    results: Sequence[JourneyResult],
    location: str,
    instance: str,
    release: str | None = None,
) -> dict[str, str]:
    """Push one run's series; the grouping key replaces what that key held before."""
    registry = CollectorRegistry()
    metrics = Metrics(registry, location)
    for result in results:
        metrics.observe(result)
    pushed = registry
    if release:
        pushed = CollectorRegistry()
        pushed.register(_WithLabels(registry, {"release": release}))
    grouping_key = {"location": location, "instance": instance}
    try:
        push_to_gateway(url, job=JOB, registry=pushed, grouping_key=grouping_key, timeout=10)
    except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors; a bad URL
        raise UsageError(f"could not push the metrics to the Pushgateway at {url}: {exc}") from None
    return {"job": JOB, **grouping_key}
