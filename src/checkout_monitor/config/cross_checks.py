"""Checks across fields, run once the config has validated: what one model cannot see alone.

Cards that look real, proxy flags that would undo the host fence, launch settings beside a
remote browser, and names that must refer
to something defined elsewhere in the file (channels, journeys, storefronts).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Collection, Iterator, Mapping

from checkout_monitor.config.alerting import MONITOR_HEALTH_RULE, ConditionKind
from checkout_monitor.config.locations import Loc, format_loc, line_of
from checkout_monitor.config.model import Config
from checkout_monitor.config.remote_browser import RemoteProtocol
from checkout_monitor.config.sandbox_cards import looks_real, mask_card
from checkout_monitor.errors import ConfigProblem


def cross_field_problems(
    config: Config, lines: Mapping[Loc, int], unknown: Collection[Loc] = ()
) -> Iterator[ConfigProblem]:
    """``unknown``: fields holding a placeholder (``validate --without-secrets``); a journey
    name among them is not compared with the others (the loader drops the problems found
    at or under them)."""
    unnamed = unknown_journey_names(config, unknown)
    yield from _card_problems(config, lines)
    yield from _proxy_problems(config, lines)
    yield from _remote_browser_problems(config, lines)
    yield from _alerting_problems(config, lines, unnamed)
    yield from _journey_problems(config, lines, unnamed)


def unknown_journey_names(config: Config, unknown: Collection[Loc]) -> dict[int, Loc]:
    """The journeys whose name is a placeholder, each with the field that holds it."""
    named: dict[int, Loc] = {}
    for i, journey in enumerate(config.journeys):
        # without a name of its own, a journey is named after its journey
        loc: Loc = ("journeys", i, "journey" if journey.name is None else "name")
        if loc in unknown:
            named[i] = loc
    return named


def _card_problems(config: Config, lines: Mapping[Loc, int]) -> Iterator[ConfigProblem]:
    """Only sandbox test cards may be typed, unless a storefront explicitly allows others."""
    for name, profile in config.storefronts.items():
        if profile.allow_real_cards:
            continue
        cards: list[tuple[Loc, str]] = [
            (("storefronts", name, "card", "number"), profile.card.number)
        ]
        cards += [
            (("storefronts", name, "payment", "declining_cards", label), number)
            for label, number in profile.payment.declining_cards.items()
        ]
        if profile.payment.three_d_secure is not None:
            three_ds: Loc = ("storefronts", name, "payment", "three_d_secure", "card")
            cards.append((three_ds, profile.payment.three_d_secure.card))
        for loc, number in cards:
            if looks_real(number):
                yield ConfigProblem(
                    format_loc(loc),
                    f"{mask_card(number)} is not a known sandbox test card; use your payment "
                    "provider's test cards (e.g. 4242424242424242), or set "
                    f"storefronts.{name}.allow_real_cards: true if you really mean it",
                    line_of(loc, lines),
                )


def _alerting_problems(
    config: Config, lines: Mapping[Loc, int], unnamed: Collection[int]
) -> Iterator[ConfigProblem]:
    """Rules name journeys and channels that exist, and each rule name once (a pattern is not
    checked while a journey's name is ``unnamed``: it may be the one it matches)."""
    alerting = config.alerting
    journeys = [journey.display_name for journey in config.journeys]
    channels = sorted(alerting.channels)
    seen: set[str] = {MONITOR_HEALTH_RULE}
    for i, rule in enumerate(alerting.rules):
        base: Loc = ("alerting", "rules", i)
        if rule.name in seen:
            loc: Loc = (*base, "name")
            why = (
                "is the built-in monitor health rule"
                if rule.name == MONITOR_HEALTH_RULE
                else ("is used by another rule")
            )
            yield ConfigProblem(
                format_loc(loc), f"{rule.name!r} {why}; give it another name", line_of(loc, lines)
            )
        seen.add(rule.name)
        if rule.condition is ConditionKind.WEEK_OVER_WEEK:
            yield from _week_over_week_problems(config, rule.window or 0, base, lines)
        for j, pattern in enumerate(rule.journeys):
            if not unnamed and not fnmatch.filter(journeys, pattern):
                loc = (*base, "journeys", j)
                yield ConfigProblem(
                    format_loc(loc),
                    f"{pattern!r} matches no journey; journeys: {', '.join(journeys)}",
                    line_of(loc, lines),
                )
    routed: list[tuple[Loc, list[str] | None]] = [
        (("alerting", "rules", i), rule.channels) for i, rule in enumerate(alerting.rules)
    ]
    routed.append((("alerting", "monitor_unhealthy"), alerting.monitor_unhealthy.channels))
    for base, names in routed:
        for j, name in enumerate(names or []):
            if name not in alerting.channels:
                loc = (*base, "channels", j)
                defined = ", ".join(channels) or "none (add them under alerting.channels)"
                yield ConfigProblem(
                    format_loc(loc),
                    f"no channel named {name!r}; defined: {defined}",
                    line_of(loc, lines),
                )


def _week_over_week_problems(
    config: Config, window: float, base: Loc, lines: Mapping[Loc, int]
) -> Iterator[ConfigProblem]:
    """The rule reads last week from the run history: refused where there can be none."""
    loc: Loc = (*base, "week_over_week_drop_above")
    history = config.history
    needed = 7 + math.ceil(window / 86400)  # last week's window starts 7 days + window ago
    if not history.enabled:
        yield ConfigProblem(
            format_loc(loc),
            "compares with last week's runs in the run history, and history.enabled is false; "
            "set history.enabled: true, or use the Prometheus rule instead "
            "(alerting.prometheus.week_over_week_drop, see docs/alerts.md)",
            line_of(loc, lines),
        )
    elif history.retention_days < needed:
        yield ConfigProblem(
            format_loc(loc),
            f"compares with runs a week old, and history.retention_days ({history.retention_days}) "
            f"deletes them first; keep at least {needed} days",
            line_of(loc, lines),
        )


def _proxy_problems(config: Config, lines: Mapping[Loc, int]) -> Iterator[ConfigProblem]:
    """Each context's proxy setting is what keeps the browser to the allowed hosts; a
    proxy flag would be silently overridden, so it is refused rather than ignored."""
    for i, arg in enumerate(config.browser.extra_args):
        flag = arg.split("=", 1)[0]
        if flag.startswith("--proxy") or flag == "--no-proxy-server":
            loc: Loc = ("browser", "extra_args", i)
            yield ConfigProblem(
                format_loc(loc),
                f"{flag} cannot be used: the browser's proxy setting is what keeps it to each "
                "storefront's allowed_hosts (an outbound proxy is not supported yet)",
                line_of(loc, lines),
            )


# Settings of a browser the agent launches itself: with browser.remote they would be ignored.
_LAUNCH_ONLY = {
    "executable": "the browser server chooses its own browser",
    "extra_args": "the browser server chooses its browser's flags",
    "recycle_above_mib": "the agent cannot see a remote browser's memory",
}


def _remote_browser_problems(config: Config, lines: Mapping[Loc, int]) -> Iterator[ConfigProblem]:
    """A setting that would be silently ignored beside ``browser.remote`` is refused, and a
    Playwright browser server is only ever reached over a websocket."""
    remote = config.browser.remote
    if remote is None:
        return
    for field, why in _LAUNCH_ONLY.items():
        if getattr(config.browser, field):
            loc: Loc = ("browser", field)
            yield ConfigProblem(
                format_loc(loc),
                f"does not apply with browser.remote ({why}); remove one of the two",
                line_of(loc, lines),
            )
    if not config.browser.headless:
        loc = ("browser", "headless")
        yield ConfigProblem(
            format_loc(loc),
            "false does not apply with browser.remote (the browser server launches it "
            "headless); remove one of the two",
            line_of(loc, lines),
        )
    if remote.protocol is RemoteProtocol.PLAYWRIGHT and not remote.url.lower().startswith("ws"):
        url: Loc = ("browser", "remote", "url")
        yield ConfigProblem(
            format_loc(url),
            f"{remote.shown_url!r}: a Playwright browser server listens on a websocket; "
            "write its ws:// or wss:// address, e.g. ws://checkout-monitor-browsers:3000/ "
            "(an http:// address is for protocol: cdp)",
            line_of(url, lines),
        )


def _journey_problems(
    config: Config, lines: Mapping[Loc, int], unnamed: Collection[int]
) -> Iterator[ConfigProblem]:
    """Each journey runs on a storefront that is defined, under a name of its own (an
    ``unnamed`` one's is not known)."""
    seen: set[str] = set()
    for i, journey in enumerate(config.journeys):
        if journey.storefront not in config.storefronts:
            loc: Loc = ("journeys", i, "storefront")
            defined = ", ".join(sorted(config.storefronts))
            yield ConfigProblem(
                format_loc(loc),
                f"no storefront named {journey.storefront!r}; defined: {defined}",
                line_of(loc, lines),
            )
        if i in unnamed:
            continue
        if journey.display_name in seen:
            loc = ("journeys", i)
            yield ConfigProblem(
                format_loc(loc),
                f"a second journey named {journey.display_name!r}; give it a distinct 'name'",
                line_of(loc, lines),
            )
        seen.add(journey.display_name)
