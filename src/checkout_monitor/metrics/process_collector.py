"""The agent's Chromium processes on /metrics, read from /proc at each scrape."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from checkout_monitor.browser.process_stats import ProcessTotals


class AgentProcessCollector(Collector):
    """Chromium processes under the agent, their memory, and zombies, at scrape time."""

    def __init__(self, read: Callable[[], ProcessTotals], location: str) -> None:
        self._read = read
        self._location = location

    def collect(self) -> Iterator[GaugeMetricFamily]:
        totals = self._read()
        for name, text, value in (
            (
                "checkout_browser_processes",
                "Chromium processes started by the agent (browser, renderers, helpers).",
                totals.chromium_processes,
            ),
            (
                "checkout_browser_resident_memory_bytes",
                "Summed resident memory of the agent's Chromium processes (shared pages "
                "count once per process, so more than the machine loses).",
                totals.chromium_rss_bytes,
            ),
            (
                "checkout_agent_zombie_processes",
                "Exited processes under the agent left unreaped for over a second (should be 0).",
                totals.zombies,
            ),
        ):
            family = GaugeMetricFamily(name, text, labels=["location"])
            family.add_metric([self._location], value)
            yield family
