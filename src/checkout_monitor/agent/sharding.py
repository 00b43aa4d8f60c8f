"""Which journeys this agent runs when N agents share one config: its shard, and the split.

The shard is ``I/N`` (0-based ``I``) or ``hostname/N`` (``I`` is the ordinal at the end of
this host's name, as a Kubernetes StatefulSet names its pods: ``checkout-monitor-2``), from
``serve --shard`` or ``$CHECKOUT_MONITOR_SHARD``; the flag wins. Journeys are split by
rendezvous (highest-random-weight) hashing of their display name: each journey goes to the
shard whose (shard, journey) weight is highest, so going from N to N+1 shards moves only the
journeys whose new highest weight is the new shard's, about 1/(N+1) of them, and never moves
one between the shards that were already there. The weight is a SHA-256 digest, the same in
every process, Python version and machine (``hash()`` is salted per process).
"""

from __future__ import annotations

import hashlib
import heapq
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from checkout_monitor.errors import UsageError

SHARD_ENV = "CHECKOUT_MONITOR_SHARD"
HOSTNAME = "hostname"
EXPORTERS = 2  # agents that export a journey's interval and info: its owner and runner-up
MAX_SHARDS = 1000  # more agents than any one config has journeys is a typo, not a fleet
_SPEC = re.compile(r"^\s*([^/\s]+)\s*/\s*([^/\s]+)\s*$")
# a StatefulSet pod's ordinal: "-2" ends the name; not web3, nor a Deployment pod's -x2k41
_ORDINAL = re.compile(r"-(\d+)$")
_VALID = (
    "valid: I/N with 0 <= I < N (e.g. 0/3, 1/3, 2/3), or hostname/N for the ordinal at the "
    "end of this host's name (a StatefulSet pod checkout-monitor-2 with hostname/3 is 2 of 3)"
)


@dataclass(frozen=True)
class Shard:
    """This agent's shard: ``index`` of ``count``; ``Shard(0, 1)`` runs every journey."""

    index: int
    count: int

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, journey: str) -> bool:
        return owner(journey, self.count) == self.index

    def exports(self, journey: str) -> bool:
        """Whether this shard exports the journey's configuration (interval, info): it owns
        it or is its runner-up; unsharded, every journey."""
        return self.index in exporters(journey, self.count)


WHOLE = Shard(0, 1)


def weight(shard: int, journey: str) -> int:
    """The rendezvous weight of ``journey`` on ``shard``: stable everywhere, forever."""
    digest = hashlib.sha256(f"{shard}\0{journey}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _preference(journey: str) -> Callable[[int], tuple[int, int]]:
    """How shards rank for ``journey``: by weight, the lower index on a tie (which 64 bits
    of SHA-256 make a curiosity). The owner and its runner-up are its first two."""
    return lambda shard: (weight(shard, journey), -shard)


def owner(journey: str, count: int) -> int:
    """The shard of ``count`` that runs ``journey``: the one with the highest weight."""
    return max(range(count), key=_preference(journey))


def exporters(journey: str, count: int) -> tuple[int, ...]:
    """The shards that export ``journey``'s configuration series: its owner, then the
    runner-up (the next highest weight: the owner if the owner's shard were gone).

    Two per journey, whatever the fleet's size (every agent exporting every journey is
    quadratic: 4,000 journeys on 96 agents, 770k series), and still one while any one
    agent is down, which is what ``CheckoutJourneyUncovered`` needs to see a journey that
    no live agent owns."""
    return tuple(heapq.nlargest(EXPORTERS, range(count), key=_preference(journey)))


def split(journeys: Iterable[str], count: int) -> dict[int, list[str]]:
    """Every shard's journeys, in the order given: what ``N`` agents would each run."""
    shards: dict[int, list[str]] = {index: [] for index in range(count)}
    for journey in journeys:
        shards[owner(journey, count)].append(journey)
    return shards


def shard_from(flag: str | None, environ: Mapping[str, str], hostname: Callable[[], str]) -> Shard:
    """The shard the flag, else the environment variable, names; neither: every journey.

    ``hostname`` is only called for ``hostname/N`` (tests pass their own)."""
    if flag is not None:
        return parse_shard(flag, "--shard", hostname)
    text = environ.get(SHARD_ENV)
    if text is None or not text.strip():
        return WHOLE
    return parse_shard(text, f"${SHARD_ENV}", hostname)


def parse_shard(text: str, source: str, hostname: Callable[[], str]) -> Shard:
    """``I/N`` or ``hostname/N``; anything else is a ``UsageError`` naming ``source``."""
    given = f"{source} {text!r}"
    match = _SPEC.match(text)
    if match is None:
        raise UsageError(f"{given}: not a shard; {_VALID}")
    index_text, count_text = match.groups()
    if not count_text.isdigit():
        raise UsageError(f"{given}: the shard count {count_text!r} is not a whole number; {_VALID}")
    count = int(count_text)
    if not 1 <= count <= MAX_SHARDS:
        raise UsageError(
            f"{given}: the shard count must be between 1 and {MAX_SHARDS}, not {count}; {_VALID}"
        )
    if index_text.lower() == HOSTNAME:
        host = hostname()
        index = _ordinal(host, given)
        where = f"this host's name {host!r} ends in {index}, which"
    elif index_text.isdigit():
        index = int(index_text)
        where = f"the index {index}"
    else:
        raise UsageError(
            f"{given}: the shard index {index_text!r} is neither a whole number nor "
            f"'{HOSTNAME}'; {_VALID}"
        )
    if index >= count:
        raise UsageError(
            f"{given}: {where} is not below the shard count {count} (shards are numbered "
            f"from 0: 0 to {count - 1}); {_VALID}"
        )
    return Shard(index, count)


def _ordinal(host: str, given: str) -> int:
    """The ordinal ending the host's first label: ``checkout-monitor-2.svc`` -> 2."""
    first = host.split(".", 1)[0]
    match = _ORDINAL.search(first)
    if match is None:
        raise UsageError(
            f"{given}: this host's name {host!r} does not end in -N (a StatefulSet pod name "
            f"like checkout-monitor-2 is expected), so it names no shard; {_VALID}, or give "
            "the index itself"
        )
    return int(match.group(1))


def preview(journeys: list[str], count: int) -> list[str]:
    """``validate --shards N``: the journeys each of N agents would run, and a warning for
    a shard that would run none (legal, with more agents than journeys, but idle)."""
    shards = split(journeys, count)
    lines = [
        f"shard {index}/{count}: {len(names)} of {len(journeys)} journeys"
        + (f": {', '.join(names)}" if names else "")
        for index, names in shards.items()
    ]
    idle = [index for index, names in shards.items() if not names]
    if idle:
        lines.append(
            f"warning: with {count} shards, shard{'s' * (len(idle) > 1)} {_ranges(idle)} "
            f"would own no journey and run nothing ({len(journeys)} enabled journeys)"
        )
    return lines


def _ranges(indexes: list[int]) -> str:
    """``0, 2-5, 7``: the warning stays one line with a thousand shards and one journey."""
    spans: list[list[int]] = []
    for index in indexes:
        if spans and spans[-1][1] == index - 1:
            spans[-1][1] = index
        else:
            spans.append([index, index])
    return ", ".join(
        str(low) if low == high else f"{low}, {high}" if high == low + 1 else f"{low}-{high}"
        for low, high in spans
    )


def describe(shard: Shard, location: str, owned: int, configured: int) -> str:
    """The line ``serve`` logs at start and on reload."""
    if shard == WHOLE:
        return f"not sharded (location {location}): running all {configured} journeys"
    return (
        f"shard {shard.label} (location {location}): owns {owned} of the {configured} "
        "configured journeys"
    )
