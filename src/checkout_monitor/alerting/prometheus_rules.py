"""``checkout-monitor rules``: the config's alert rules as Prometheus alerting rules."""

from __future__ import annotations

from checkout_monitor.config_model import LoadedConfig


def render_rules(loaded: LoadedConfig) -> str:
    raise NotImplementedError("being written")
