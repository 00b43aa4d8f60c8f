from __future__ import annotations

import pytest

from checkout_monitor.text.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("90s", 90),
        ("15m", 900),
        ("1h30m", 5400),
        ("1.5s", 1.5),
        ("2d", 172800),
        (" 10s ", 10),
        ("1m30s", 90),
    ],
)
def test_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "ten seconds", "10 sec", "s", "-5s", "1h-30m", "5x"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="use a number with a unit"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "0.4s"),
        (3, "3s"),
        (12.2, "12s"),
        (90, "90s"),
        (150, "2m30s"),
        (600, "10m"),
        (3600, "60m"),
        (7200, "2h"),
        (9000, "2h30m"),
    ],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
