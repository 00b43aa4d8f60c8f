"""The shard spec (`--shard`, `$CHECKOUT_MONITOR_SHARD`, `hostname/N`) and the rendezvous
split: stable across processes, and going from N to N+1 shards moves about 1/(N+1) of the
journeys, only ever to the new shard."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from checkout_monitor.agent.sharding import (
    SHARD_ENV,
    WHOLE,
    Shard,
    owner,
    parse_shard,
    preview,
    shard_from,
    split,
)
from checkout_monitor.errors import UsageError
from support.cli_support import run_cli

NAMES = [f"journey-{number:04d}" for number in range(1000)]


def host(name: str) -> object:
    return lambda: name


def no_host() -> str:
    raise AssertionError("the host name is read only for hostname/N")


@pytest.mark.parametrize(
    ("text", "hostname", "expected"),
    [
        ("0/3", "any", Shard(0, 3)),
        ("2/3", "any", Shard(2, 3)),
        (" 1 / 4 ", "any", Shard(1, 4)),
        ("0/1", "any", WHOLE),
        ("hostname/3", "checkout-monitor-2", Shard(2, 3)),
        ("HOSTNAME/3", "checkout-monitor-0", Shard(0, 3)),
        ("hostname/12", "agent-11.checkout-monitor.monitoring.svc.cluster.local", Shard(11, 12)),
        ("hostname/3", "web-01", Shard(1, 3)),
    ],
)
def test_a_shard_is_read_from_its_spec(text: str, hostname: str, expected: Shard) -> None:
    assert parse_shard(text, "--shard", host(hostname)) == expected  # type: ignore[arg-type]


INVALID = [
    # (spec, host name, what the message says after "--shard '<spec>': ")
    ("3", "h-0", "not a shard; valid: I/N with 0 <= I < N"),
    ("1/3/4", "h-0", "not a shard; valid: I/N"),
    ("", "h-0", "not a shard; valid: I/N"),
    ("1/three", "h-0", "the shard count 'three' is not a whole number; valid: I/N"),
    ("0/0", "h-0", "the shard count must be between 1 and 1000, not 0; valid: I/N"),
    ("0/-2", "h-0", "the shard count '-2' is not a whole number"),
    (
        "3/3",
        "h-0",
        "the index 3 is not below the shard count 3 (shards are numbered from 0: "
        "0 to 2); valid: I/N",
    ),
    ("-1/3", "h-0", "the shard index '-1' is neither a whole number nor 'hostname'"),
    ("pod/3", "h-0", "the shard index 'pod' is neither a whole number nor 'hostname'"),
    (
        "hostname/3",
        "checkout-monitor",
        "this host's name 'checkout-monitor' does not end in -N (a StatefulSet pod name "
        "like checkout-monitor-2 is expected), so it names no shard; valid: I/N",
    ),
    # digits that are not an ordinal: part of a word, or of a Deployment pod's random suffix
    ("hostname/3", "web3", "this host's name 'web3' does not end in -N"),
    ("hostname/50", "checkout-monitor-7d9f8b6c4-x2k41", "this host's name 'checkout-monitor-7d9"),
    ("hostname/3", "web-x1.agents.svc", "this host's name 'web-x1.agents.svc' does not end in -N"),
    ("hostname/3", "agents.svc-1", "this host's name 'agents.svc-1' does not end in -N"),
    (
        "hostname/3",
        "checkout-monitor-5",
        "this host's name 'checkout-monitor-5' ends in 5, "
        "which is not below the shard count 3 (shards are numbered from 0: 0 to 2)",
    ),
]


@pytest.mark.parametrize(("text", "hostname", "message"), INVALID)
def test_a_bad_spec_says_what_was_given_and_what_is_valid(
    text: str, hostname: str, message: str
) -> None:
    with pytest.raises(UsageError) as raised:
        parse_shard(text, "--shard", host(hostname))  # type: ignore[arg-type]
    assert str(raised.value).startswith(f"--shard {text!r}: {message}")
    assert "hostname/N" in str(raised.value)  # the other valid form is named too


def test_the_flag_wins_over_the_environment_and_neither_is_every_journey() -> None:
    environ = {SHARD_ENV: "2/3"}
    assert shard_from("1/4", environ, no_host) == Shard(1, 4)
    assert shard_from(None, environ, no_host) == Shard(2, 3)
    assert shard_from(None, {}, no_host) == WHOLE
    assert shard_from(None, {SHARD_ENV: " "}, no_host) == WHOLE
    with pytest.raises(UsageError, match=r"^\$CHECKOUT_MONITOR_SHARD '5/3': the index 5"):
        shard_from(None, {SHARD_ENV: "5/3"}, no_host)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--shard", "3/3"], {}, "checkout-monitor: --shard '3/3': the index 3 is not below"),
        (
            [],
            {SHARD_ENV: "one/3"},
            "checkout-monitor: $CHECKOUT_MONITOR_SHARD 'one/3': the shard index 'one' is neither",
        ),
    ],
    ids=["flag", "environment"],
)
def test_serve_with_a_bad_shard_exits_2_with_one_plain_message(
    args: list[str], env: dict[str, str], message: str
) -> None:
    result = run_cli("checkout-monitor", "serve", "--demo", *args, env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


# --- the split -------------------------------------------------------------------------------


def test_the_split_is_the_same_in_every_process_and_python() -> None:
    """SHA-256, not hash(): another interpreter with another hash seed agrees, and so does
    this pinned table (a change to the weight would silently move every fleet's journeys)."""
    code = (
        "from checkout_monitor.agent.sharding import owner; "
        f"print([owner(n, 3) for n in {NAMES[:50]!r}])"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        check=True,
    )
    assert other.stdout.strip() == str([owner(name, 3) for name in NAMES[:50]])
    assert [
        owner(name, 3) for name in ["product-to-checkout", "discount-codes", "checkout.eu"]
    ] == [
        2,
        0,
        2,
    ]
    assert split([f"shop-{n:02d}" for n in range(6)], 4) == {
        0: ["shop-00", "shop-03", "shop-04"],
        1: [],
        2: ["shop-05"],
        3: ["shop-01", "shop-02"],
    }


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_one_more_shard_moves_about_its_share_and_only_to_itself(count: int) -> None:
    before = {name: owner(name, count) for name in NAMES}
    after = {name: owner(name, count + 1) for name in NAMES}
    moved = [name for name in NAMES if before[name] != after[name]]
    assert all(after[name] == count for name in moved)  # never between the old shards
    assert [name for name in NAMES if after[name] == count] == moved  # the new shard's all moved
    share = len(moved) / len(NAMES)
    assert abs(share - 1 / (count + 1)) < 0.05, share


def test_shards_get_about_equal_shares() -> None:
    sizes = [len(names) for names in split(NAMES, 4).values()]
    assert sum(sizes) == len(NAMES)
    assert all(200 <= size <= 300 for size in sizes), sizes


def test_one_shard_owns_every_journey() -> None:
    assert all(WHOLE.owns(name) for name in NAMES)
    assert sum(Shard(index, 5).owns("checkout.eu") for index in range(5)) == 1


def test_validate_shows_the_split_and_warns_of_an_idle_shard(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    names = [f"shop-{n:02d}" for n in range(6)]
    entries = "".join(
        f"  - journey: product-images\n    name: {name}\n    storefront: shop\n" for name in names
    )
    config.write_text(
        "storefronts:\n  shop:\n    extends: demo\n    base_url: http://127.0.0.1:9\n"
        f"journeys:\n{entries}  - journey: product-images\n    name: paused\n"
        "    storefront: shop\n    enabled: false\n"
    )
    result = run_cli("checkout-monitor", "validate", str(config), "--shards", "4")
    assert result.returncode == 0, result.stderr
    shards = split(names, 4)  # the disabled journey is nobody's
    assert result.stdout.splitlines()[1:] == [
        f"{config}: shard 0/4: 3 of 6 journeys: {', '.join(shards[0])}",
        f"{config}: shard 1/4: 0 of 6 journeys",
        f"{config}: shard 2/4: 1 of 6 journeys: {', '.join(shards[2])}",
        f"{config}: shard 3/4: 2 of 6 journeys: {', '.join(shards[3])}",
        f"{config}: warning: with 4 shards, shard 1 would own no journey and run nothing "
        "(6 enabled journeys)",
    ]
    refused = run_cli("checkout-monitor", "validate", str(config), "--shards", "0")
    assert refused.returncode == 2
    assert "argument --shards: '0': a number of agents from 1 to 1000" in refused.stderr


def test_the_idle_shards_warning_stays_one_short_line() -> None:
    # 1000 agents for 3 journeys: 997 idle shards, named as ranges, not one by one
    names = ["checkout.eu", "checkout.us", "images.eu"]
    assert sorted(owner(name, 1000) for name in names) == [240, 314, 940]
    assert preview(names, 1000)[-1] == (
        "warning: with 1000 shards, shards 0-239, 241-313, 315-939, 941-999 would own no "
        "journey and run nothing (3 enabled journeys)"
    )
    assert preview(names, 4)[-1].startswith("warning: with 4 shards, shards 1, 2 would")
