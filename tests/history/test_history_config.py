"""The ``history:`` section as the agent reads it: where the file goes by default, relative
paths, and a reload that moves it or changes the retention."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import yaml

from checkout_monitor.config.loader import load_config
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.history import HistoryRecorder
from support.history_seed import T0, result


def config(tmp: Path, history: dict[str, object] | None) -> LoadedConfig:
    document: dict[str, object] = {
        "alerting": {"state_dir": "state"},
        "storefronts": {"shop": {"extends": "demo", "base_url": "http://127.0.0.1:8080"}},
        "journeys": [{"journey": "product-to-checkout", "storefront": "shop"}],
    }
    if history is not None:
        document["history"] = history
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return load_config(path)


def runs(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT count(*) FROM runs").fetchone()[0])
    finally:
        db.close()


def test_the_defaults(tmp_path: Path) -> None:
    loaded = config(tmp_path, None)
    settings = loaded.config.history
    assert (settings.enabled, settings.retention_days, settings.max_megabytes) == (True, 30, 200)
    assert loaded.history_path() == tmp_path / "state" / "history.sqlite3"
    recorder = HistoryRecorder.from_config(loaded, source="serve")
    assert recorder.retention.max_bytes == 200 * 1024 * 1024
    assert recorder.retention.days == 30


def test_a_reload_moves_the_file_and_takes_the_new_retention(tmp_path: Path) -> None:
    first = config(tmp_path, {"path": "one.sqlite3"})
    assert first.history_path() == tmp_path / "one.sqlite3"  # relative to the config file
    # the seeded runs are weeks old: a long retention keeps them
    recorder = HistoryRecorder.from_config(
        config(tmp_path, {"path": "one.sqlite3", "retention_days": 3650}), source="serve"
    )
    assert recorder.record(result(0))
    recorder.configure(config(tmp_path, {"path": "two.sqlite3", "retention_days": 3650}))
    assert recorder.record(result(1))
    assert recorder.record(result(2))
    recorder.close()
    assert (runs(tmp_path / "one.sqlite3"), runs(tmp_path / "two.sqlite3")) == (1, 2)


def test_a_reload_that_shortens_the_retention_prunes_at_the_next_run(tmp_path: Path) -> None:
    """Not up to an hour later, when pruning would next be due."""
    recorder = HistoryRecorder.from_config(
        config(tmp_path, {"path": "h.sqlite3", "retention_days": 3650}), source="serve"
    )
    assert recorder.record(result(0)) and recorder.record(result(1))  # weeks old
    recorder.configure(config(tmp_path, {"path": "h.sqlite3", "retention_days": 7}))
    assert recorder.retention.days == 3650  # taken by the next write, not by the reload
    now = (datetime.now(UTC) - T0).total_seconds() / 60
    assert recorder.record(result(now))
    assert recorder.retention.days == 7
    assert runs(tmp_path / "h.sqlite3") == 1  # the two old runs went at once
    recorder.close()
