"""The command line's arguments: every parser and option, and nothing that runs."""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Callable
from pathlib import Path

from checkout_monitor import __version__
from checkout_monitor.agent.sharding import MAX_SHARDS
from checkout_monitor.config.locate import CONFIG_ENV
from checkout_monitor.demo_shop.faults import FAULTS
from checkout_monitor.demo_shop.payment_modes import OVERLAYS, PAYMENT_MODES
from checkout_monitor.demo_shop.themes import THEMES
from checkout_monitor.reports.writers import REPORT_FORMATS
from checkout_monitor.text.durations import format_duration, parse_duration


def _duration_between(low: float, high: float) -> Callable[[str], float]:
    """An argparse type for durations written with units, bounded to [low, high]."""

    def parse(text: str) -> float:
        try:
            seconds = parse_duration(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if not low <= seconds <= high:
            raise argparse.ArgumentTypeError(
                f"{text!r}: must be between {format_duration(low)} and {format_duration(high)}"
            )
        return seconds

    return parse


def _shard_count(text: str) -> int:
    """``validate --shards N``: a whole number of agents, as ``serve --shard I/N`` takes."""
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_SHARDS:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of agents from 1 to {MAX_SHARDS}")
    return int(text)


def _add_theme_argument(parser: argparse._ActionsContainer) -> None:
    parser.add_argument(
        "--theme",
        "--demo-theme",
        dest="demo_theme",
        choices=sorted(THEMES),
        default="classic",
        help="with --demo: the demo shop's markup (default: classic)",
    )
    _add_payment_arguments(parser, "with --demo: ")


def _add_payment_arguments(parser: argparse._ActionsContainer, prefix: str = "") -> None:
    """How the demo shop takes cards, and the overlays it shows (see demo_shop.payment_modes)."""
    parser.add_argument(
        "--payment",
        dest="demo_payment",
        choices=PAYMENT_MODES,
        default="form",
        help=f"{prefix}how the demo shop takes cards: its own form, the provider's "
        "hosted fields (iframes), or a redirect to the provider's page (default: form)",
    )
    parser.add_argument(
        "--overlay",
        dest="demo_overlays",
        action="append",
        default=[],
        choices=OVERLAYS,
        metavar="NAME",
        help=f"{prefix}an overlay the demo shop shows (repeatable): {', '.join(OVERLAYS)}",
    )


def _add_fault_argument(parser: argparse._ActionsContainer, purpose: str) -> None:
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        choices=sorted(FAULTS),
        metavar="NAME",
        help=f"{purpose} (repeatable); one of: {', '.join(sorted(FAULTS))}",
    )


def _add_smoke_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("what to run against")
    source.add_argument(
        "--config",
        type=Path,
        help=f"config file (default: ${CONFIG_ENV}, else ./config.yaml)",
    )
    source.add_argument(
        "--demo", action="store_true", help="start the embedded demo shop and run against it"
    )
    _add_theme_argument(source)
    _add_fault_argument(source, "with --demo: switch a fault on in the demo shop")
    selection = parser.add_argument_group("which journeys")
    selection.add_argument(
        "--journey",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this configured journey (repeatable)",
    )
    selection.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="TAG",
        help="run only journeys with this tag (repeatable: any of them)",
    )
    selection.add_argument(
        "--list", action="store_true", help="list the journeys (owner, interval, tags) and exit"
    )
    selection.add_argument(
        "--triage",
        action="store_true",
        help="run every check and print the incident checklist (also written as Markdown)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        choices=range(4),
        metavar="N",
        help="retry a failed journey N times (0-3) before it counts (default: from the config)",
    )
    parser.add_argument(
        "--release",
        metavar="VERSION",
        help="the deploy this run checks: recorded in every report and the pushed metrics",
    )
    for report in REPORT_FORMATS:
        parser.add_argument(f"--{report.option}", type=Path, metavar="PATH", help=report.help)
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="only failed or flaky journeys and the summary"
    )
    parser.add_argument(
        "--step-timeout",
        type=_duration_between(0.5, 600),
        metavar="DURATION",
        help="override every journey's step timeout, e.g. 5s (default: from the config)",
    )
    parser.add_argument(
        "--history",
        type=Path,
        metavar="PATH",
        help="also record the run in this run-history database (SQLite; created if missing)",
    )
    parser.add_argument(
        "--pushgateway", metavar="URL", help="push the run's metrics to this Prometheus Pushgateway"
    )
    parser.add_argument(
        "--push-instance",
        metavar="NAME",
        default=socket.gethostname(),
        help="the 'instance' in the pushed grouping key (default: this host's name)",
    )
    parser.add_argument("--monitors", type=Path, metavar="DIR", help="folder of journey files")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")


def smoke_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run the configured checkout journeys once and say what works.",
        epilog="Exit codes: 0 all journeys passed, 1 a journey failed, 2 usage or config error.",
    )
    _add_smoke_arguments(parser)
    return parser


def main_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="checkout-monitor",
        description="Synthetic checkout monitoring for online shops.",
        epilog="Exit codes: 0 all journeys passed, 1 a journey failed, 2 usage or config error.",
    )
    parser.add_argument("--version", action="version", version=f"checkout-monitor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    smoke = commands.add_parser("smoke", help="run the journeys once (same as run-smoke)")
    _add_smoke_arguments(smoke)

    validate = commands.add_parser("validate", help="check a config file and exit")
    validate.add_argument("config", type=Path, metavar="CONFIG")
    validate.add_argument("--monitors", type=Path, metavar="DIR", help="folder of journey files")
    validate.add_argument(
        "--web-config", type=Path, metavar="FILE", help="also check this listener web config"
    )
    validate.add_argument(
        "--without-secrets",
        action="store_true",
        help="for CI without the secrets: list each ${ENV} reference whose variable is unset "
        "and check the rest (the value stands in with a placeholder)",
    )
    validate.add_argument(
        "--shards",
        type=_shard_count,
        metavar="N",
        help="also show which journeys each of N agents (serve --shard I/N) would run",
    )
    validate.add_argument("-v", "--verbose", action="store_true")

    serve = commands.add_parser(
        "serve", help="run the journeys at their intervals; serve /metrics, /healthz, /readyz"
    )
    serve.add_argument("--config", type=Path, help="config file (default as for smoke)")
    serve.add_argument("--demo", action="store_true", help="run against the embedded demo shop")
    _add_theme_argument(serve)
    serve.add_argument("--listen", metavar="HOST:PORT", help="default: agent.listen in the config")
    serve.add_argument(
        "--web-config",
        type=Path,
        metavar="FILE",
        help="TLS and basic auth for the listener, as Prometheus exporters' --web.config.file "
        "(default: agent.web_config_file in the config)",
    )
    serve.add_argument(
        "--interval",
        type=_duration_between(1, 86400),
        metavar="DURATION",
        help="run every journey this often, overriding the config (e.g. 30s)",
    )
    serve.add_argument("--monitors", type=Path, metavar="DIR", help="folder of journey files")
    serve.add_argument(
        "--shard",
        metavar="I/N",
        help="run only this shard's share of the journeys, of N agents sharing the config: "
        "I/N (0-based) or hostname/N (the ordinal ending this host's name, as in a "
        "StatefulSet) (default: $CHECKOUT_MONITOR_SHARD, else every journey)",
    )
    serve.add_argument("-v", "--verbose", action="store_true")

    rules = commands.add_parser(
        "rules", help="write the config's alert rules as Prometheus alerting rules (YAML)"
    )
    rules.add_argument("--config", type=Path, help="config file (default as for smoke)")
    rules.add_argument(
        "--output", type=Path, metavar="PATH", help="write here instead of standard output"
    )
    rules.add_argument("-v", "--verbose", action="store_true")

    schema = commands.add_parser(
        "schema", help="print the config's JSON Schema (for editors and CI linters)"
    )
    schema.add_argument(
        "--output", type=Path, metavar="PATH", help="write here instead of standard output"
    )
    schema.add_argument("-v", "--verbose", action="store_true")

    images = commands.add_parser("images", help="product image tools")
    image_commands = images.add_subparsers(dest="images_command", required=True, metavar="ACTION")
    baseline = image_commands.add_parser(
        "baseline",
        help="record the known-good look of every product image, for the product-images journey",
    )
    baseline.add_argument("--config", type=Path, help="config file (default as for smoke)")
    baseline.add_argument("--demo", action="store_true", help="record the embedded demo shop")
    _add_theme_argument(baseline)
    baseline.add_argument("--storefront", metavar="NAME", help="storefront in the config")
    baseline.add_argument(
        "--output", type=Path, metavar="PATH", help="where to write (default: images.baseline)"
    )
    baseline.add_argument("-v", "--verbose", action="store_true")

    shop = commands.add_parser("demo-shop", help="serve the embedded demo shop")
    shop.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    shop.add_argument("--port", type=int, default=8080, help="shop port (default 8080)")
    shop.add_argument(
        "--sandbox-port", type=int, default=8081, help="payment sandbox port (default 8081)"
    )
    shop.add_argument("--theme", choices=sorted(THEMES), default="classic")
    _add_payment_arguments(shop)
    _add_fault_argument(shop, "switch a fault on at start")
    shop.add_argument(
        "--admin-token",
        default=os.environ.get("DEMO_SHOP_ADMIN_TOKEN", "demo-admin-token"),
        help="bearer token for /admin/faults and /api/orders "
        "(default: $DEMO_SHOP_ADMIN_TOKEN, else demo-admin-token)",
    )
    shop.add_argument("-v", "--verbose", action="store_true")
    return parser
