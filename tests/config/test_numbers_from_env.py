"""Whole numbers may come from ``${ENV}`` like any other value: the variable's text is read
as the number it spells, and refused, with the field named, when it spells none."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from checkout_monitor.config.loader import load_config
from checkout_monitor.errors import ConfigError


def _config(tmp: Path, history: dict[str, object]) -> Path:
    document = {
        "storefronts": {"shop": {"extends": "demo", "base_url": "http://127.0.0.1:8080"}},
        "journeys": [{"journey": "product-to-checkout", "storefront": "shop"}],
        "history": history,
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_history_sizes_and_days_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HISTORY_MB", "150")
    monkeypatch.setenv("HISTORY_DAYS", "14")
    path = _config(
        tmp_path, {"max_megabytes": "${HISTORY_MB}", "retention_days": "${HISTORY_DAYS}"}
    )
    history = load_config(path).config.history
    assert (history.max_megabytes, history.retention_days) == (150, 14)


def test_a_size_with_a_unit_from_the_environment_is_still_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HISTORY_MB", "150MB")
    with pytest.raises(ConfigError) as raised:
        load_config(_config(tmp_path, {"max_megabytes": "${HISTORY_MB}"}))
    assert "history.max_megabytes" in raised.value.render()
    assert "write a whole number without a unit" in raised.value.render()
