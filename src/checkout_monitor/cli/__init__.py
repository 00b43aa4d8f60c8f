"""Command line: ``checkout-monitor smoke|validate|demo-shop`` and ``run-smoke``.

Every anticipated problem ends in a plain message and exit code 2; only ``--verbose``
shows a traceback, and only for a bug.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from checkout_monitor import __version__
from checkout_monitor.agent.scheduler import Agent
from checkout_monitor.agent.status_server import Readiness, StatusServer
from checkout_monitor.alerting.prometheus_rules import render_rules
from checkout_monitor.alerting.service import Alerting
from checkout_monitor.cli.exit_codes import ExitCode
from checkout_monitor.config.demo import THEME_PROFILES, demo_config
from checkout_monitor.config.loader import load_config
from checkout_monitor.config.model import LoadedConfig, check_listen
from checkout_monitor.config.web_config import listener_web_config
from checkout_monitor.demo_shop import FAULTS, DemoShop
from checkout_monitor.demo_shop.payment_modes import OVERLAYS, PAYMENT_MODES
from checkout_monitor.errors import CheckoutMonitorError, ConfigError, UsageError
from checkout_monitor.evidence.artifacts import ArtifactStore
from checkout_monitor.evidence.evidence_redaction import EvidenceRedactor
from checkout_monitor.evidence.last_passed import LastPassed
from checkout_monitor.evidence.redaction import LogRedaction
from checkout_monitor.evidence.results_scrub import scrub_results
from checkout_monitor.images.baseline import baseline_path, record_baseline
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.metrics.pushgateway import push_results
from checkout_monitor.reports.atomic_files import write_json, write_text
from checkout_monitor.reports.console import ConsoleReporter, Verbosity
from checkout_monitor.reports.html_report import write_html
from checkout_monitor.reports.json_report import write_json_report
from checkout_monitor.reports.junit_report import write_junit
from checkout_monitor.reports.run_info import RunInfo
from checkout_monitor.reports.triage import checklist, render_markdown, render_text
from checkout_monitor.results import JourneyResult
from checkout_monitor.run.monitors_loader import default_monitors_dir, load_monitors
from checkout_monitor.run.plan import PlannedJourney, check_journeys_exist, plan_journeys
from checkout_monitor.run.smoke import run_smoke
from checkout_monitor.text.durations import format_duration, parse_duration

CONFIG_ENV = "CHECKOUT_MONITOR_CONFIG"
log = logging.getLogger("checkout_monitor")
_LOG_REDACTION = LogRedaction()  # no log line, from us or a library, carries a ${ENV} value


# --- argument parsers ----------------------------------------------------------------------


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


def _add_theme_argument(parser: argparse._ActionsContainer) -> None:
    parser.add_argument(
        "--theme",
        "--demo-theme",
        dest="demo_theme",
        choices=sorted(THEME_PROFILES),
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
    parser.add_argument(
        "--html", type=Path, metavar="PATH", help="also write a self-contained HTML report"
    )
    parser.add_argument("--junit", type=Path, metavar="PATH", help="also write JUnit XML")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="only failed or flaky journeys and the summary"
    )
    parser.add_argument(
        "--step-timeout",
        type=_duration_between(0.5, 600),
        metavar="DURATION",
        help="override every journey's step timeout, e.g. 5s (default: from the config)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
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


def _smoke_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run the configured checkout journeys once and say what works.",
        epilog="Exit codes: 0 all journeys passed, 1 a journey failed, 2 usage or config error.",
    )
    _add_smoke_arguments(parser)
    return parser


def _main_parser() -> argparse.ArgumentParser:
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
    serve.add_argument("-v", "--verbose", action="store_true")

    rules = commands.add_parser(
        "rules", help="write the config's alert rules as Prometheus alerting rules (YAML)"
    )
    rules.add_argument("--config", type=Path, help="config file (default as for smoke)")
    rules.add_argument(
        "--output", type=Path, metavar="PATH", help="write here instead of standard output"
    )
    rules.add_argument("-v", "--verbose", action="store_true")

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
    shop.add_argument("--theme", choices=sorted(THEME_PROFILES), default="classic")
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


# --- entry points ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = _main_parser().parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], ExitCode]] = {
        "smoke": _smoke,
        "validate": _validate,
        "demo-shop": _demo_shop,
        "images": _images_baseline,
        "serve": _serve,
        "rules": _rules,
    }
    return _guarded("checkout-monitor", commands[args.command], args)


def run_smoke_main(argv: Sequence[str] | None = None) -> int:
    args = _smoke_parser("run-smoke").parse_args(argv)
    return _guarded("run-smoke", _smoke, args)


def _guarded(
    prog: str, command: Callable[[argparse.Namespace], ExitCode], args: argparse.Namespace
) -> int:
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    _LOG_REDACTION.install(logging.getLogger())  # secrets are added once a config loads
    # The embedded demo shop's request log is noise next to the journey's own lines.
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        return int(command(args))
    except ConfigError as exc:
        count = len(exc.problems)
        print(
            f"{prog}: the config is not valid ({count} problem{'s' * (count != 1)}):",
            file=sys.stderr,
        )
        print(exc.render(), file=sys.stderr)
    except CheckoutMonitorError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        print(
            f"{prog}: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in checkout-monitor, not in your shop. Rerun with --verbose and "
            "report what it prints.",
            file=sys.stderr,
        )
    return int(ExitCode.USAGE_ERROR)


# --- commands ----------------------------------------------------------------------------------


def _smoke(args: argparse.Namespace) -> ExitCode:
    if args.fault and not args.demo:
        raise UsageError("--fault only works with --demo (it switches faults on in the demo shop)")
    if args.triage and (args.journey or args.tag):
        raise UsageError("--triage runs every check: leave out --journey and --tag")
    started_at = datetime.now(UTC)
    wall_start = time.perf_counter()
    with _target(args) as (loaded, header):
        _LOG_REDACTION.add(loaded.secrets)
        registry = load_monitors(_monitors_dir(args, loaded))
        loaded.step_timeout_override = args.step_timeout
        loaded.retries_override = args.retries
        planned = plan_journeys(loaded, registry, args.journey, args.tag)
        if args.list:
            _list_journeys(planned)
            return ExitCode.OK
        # what the shop shows can hold a secret or a card number: scrubbed wherever it goes
        scrub = EvidenceRedactor.for_profiles(loaded.config.storefronts.values(), loaded.secrets)
        artifacts = ArtifactStore.from_config(loaded)
        last_passed = LastPassed(artifacts.root)
        reporter = ConsoleReporter(
            sys.stdout,
            verbosity=Verbosity.QUIET if args.quiet else Verbosity.NORMAL,
            last_passed=last_passed.load(),
            scrub=scrub.text,
            artifacts_root=artifacts.root,
        )
        reporter.run_started(header)
        results = asyncio.run(run_smoke(loaded.config, planned, reporter, artifacts))
    wall = time.perf_counter() - wall_start
    reporter.run_finished(results, wall)
    last_passed.record(results)
    info = RunInfo(
        started_at,
        wall,
        args.release,
        loaded.config.location,
        header,
        artifacts.root,
        loaded.secrets,
    )
    shown = scrub_results(results, scrub.text)
    problems = _write_reports(args, shown, info, reporter)
    if args.triage:
        problems += _triage(shown, info, reporter)
    if args.pushgateway:
        try:
            key = push_results(
                args.pushgateway, shown, loaded.config.location, args.push_instance, args.release
            )
        except UsageError as exc:
            problems.append(str(exc))
        else:
            pushed_as = ", ".join(f"{k}={v}" for k, v in key.items())
            reporter.note(f"pushed to {args.pushgateway} as {pushed_as}")
    for problem in problems:
        print(f"run-smoke: {problem}", file=sys.stderr)
    if not all(r.ok for r in results):
        return ExitCode.JOURNEY_FAILED  # the shop's failure matters more than a report's
    return ExitCode.USAGE_ERROR if problems else ExitCode.OK


def _list_journeys(planned: Sequence[PlannedJourney]) -> None:
    for journey in planned:
        config = journey.config
        print(
            f"{journey.name}  ({journey.definition.name} on {journey.storefront})\n"
            f"    owner: {config.owner or 'not set'}\n"
            f"    every {format_duration(journey.interval)} under serve; "
            f"retries {journey.retries}; tags: {', '.join(config.tags) or 'none'}"
            + (f"\n    runbook: {config.runbook}" if config.runbook else "")
        )


_REPORT_WRITERS: dict[str, tuple[str, Callable[[Path, Sequence[JourneyResult], RunInfo], None]]] = {
    "json": ("JSON report", write_json_report),
    "html": ("HTML report", write_html),
    "junit": ("JUnit XML", write_junit),
}


def _write_reports(
    args: argparse.Namespace,
    results: Sequence[JourneyResult],
    info: RunInfo,
    reporter: ConsoleReporter,
) -> list[str]:
    """Every report asked for; one that cannot be written does not stop the others."""
    problems = []
    for option, (what, write) in _REPORT_WRITERS.items():
        path: Path | None = getattr(args, option)
        if path is None:
            continue
        try:
            write(path, results, info)
        except OSError as exc:
            problems.append(f"could not write the {what} to {path}: {exc}")
        else:
            reporter.note(f"{what}: {path}")
    return problems


def _triage(
    results: Sequence[JourneyResult], info: RunInfo, reporter: ConsoleReporter
) -> list[str]:
    lines = checklist(results)
    reporter.note(render_text(lines))
    stamp = f"{info.started_at:%Y%m%dT%H%M%S%fZ}"
    path = (info.artifacts_dir or Path.cwd()) / f"triage-{stamp}.md"
    try:
        write_text(path, info.scrubbed(render_markdown(lines, info)))
    except OSError as exc:
        return [f"could not write the triage checklist to {path}: {exc}"]
    reporter.note(f"\nChecklist as Markdown, to paste into the incident channel: {path}")
    return []


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[tuple[LoadedConfig, str]]:
    """The config to run and a header line; with --demo, the demo shop runs meanwhile."""
    if args.demo and args.config:
        raise UsageError("use either --demo or --config, not both")
    if not args.demo:
        path = _config_path(args.config)
        loaded = load_config(path)
        yield (
            loaded,
            f"checkout-monitor {__version__} | config {path} | location {loaded.config.location}",
        )
        return
    faults_on: list[str] = getattr(args, "fault", [])
    with (
        DemoShop(
            faults=faults_on,
            theme=args.demo_theme,
            payment=args.demo_payment,
            overlays=args.demo_overlays,
        ) as shop,
        tempfile.TemporaryDirectory(prefix="checkout-monitor-demo-") as state_dir,
    ):
        faults = ", ".join(faults_on) or "none"
        overlays = ", ".join(sorted(shop.overlays)) or "none"
        yield (
            demo_config(shop, args.demo_theme, Path(state_dir)),
            (
                f"checkout-monitor {__version__} | demo shop ({args.demo_theme}) at "
                f"{shop.shop_url}, payment sandbox at {shop.sandbox_url} | payment: "
                f"{shop.payment} | overlays: {overlays} | faults: {faults} | "
                f"admin token {shop.admin_token}"
            ),
        )


def _config_path(given: Path | None) -> Path:
    if given is not None:
        return given
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    default = Path("config.yaml")
    if default.is_file():
        return default
    raise UsageError(
        "no config given: use --config PATH (or set $CHECKOUT_MONITOR_CONFIG), "
        "or --demo to try the embedded demo shop"
    )


def _monitors_dir(args: argparse.Namespace, loaded: LoadedConfig) -> Path:
    return args.monitors or loaded.monitors_dir() or default_monitors_dir()


def _validate(args: argparse.Namespace) -> ExitCode:
    loaded = load_config(args.config)
    registry = load_monitors(_monitors_dir(args, loaded))
    check_journeys_exist(loaded, registry)
    web = listener_web_config(loaded, args.web_config)
    config = loaded.config
    print(
        f"{args.config}: OK: {len(config.journeys)} journeys, "
        f"{len(config.storefronts)} storefronts, location {config.location}"
        + (f"; listener: {web.describe()} ({web.source})" if web else "")
    )
    return ExitCode.OK


def _serve(args: argparse.Namespace) -> ExitCode:
    log.setLevel(logging.INFO)  # one line per journey run: what a container's log should say
    with _target(args) as (first, header):
        listening: list[StatusServer] = []  # a reload brings its new web config to the listener

        def load() -> tuple[LoadedConfig, list[PlannedJourney]]:
            loaded = first if args.demo else load_config(_config_path(args.config))
            _LOG_REDACTION.add(loaded.secrets)
            loaded.interval_override = args.interval
            web = listener_web_config(loaded, args.web_config)
            registry = load_monitors(_monitors_dir(args, loaded))
            planned = plan_journeys(loaded, registry)
            for server in listening:
                server.secure(web)
            return loaded, planned

        loaded, _ = load()  # bad config or journeys end the command here, with exit 2
        web = listener_web_config(loaded, args.web_config)
        listen = args.listen or loaded.config.agent.listen
        try:
            check_listen(listen)
        except ValueError as exc:
            raise UsageError(f"--listen: {exc}") from None
        host, _, port = listen.rpartition(":")
        registry = CollectorRegistry()
        metrics = Metrics(registry, loaded.config.location)
        readiness = Readiness()
        scheme = "https" if web and web.tls else "http"
        shown_host = socket.gethostname() if host in ("0.0.0.0", "::") else host
        alerting = _start_alerting(loaded, metrics, f"{scheme}://{shown_host}:{port}")
        pages = {"/alerts": alerting.page} if alerting else {}
        try:
            server = StatusServer(host, int(port), registry, readiness, pages, web).start()
        except OSError as exc:
            raise UsageError(f"cannot listen on {listen}: {exc.strerror}") from None
        listening.append(server)
        print(header, flush=True)
        secured = f" with {web.describe()} ({web.source})" if web else ""
        print(f"serving {', '.join(server.paths)} on {scheme}://{server.address}{secured}")
        if web and web.users and not web.tls:
            print(
                "warning: basic auth without TLS: the password crosses the network in clear "
                f"text; add tls_server_config to {web.source}",
                file=sys.stderr,
            )
        sys.stdout.flush()
        if alerting is not None:
            print(alerting.describe(), flush=True)
        try:
            asyncio.run(Agent(load, metrics, readiness, alerting=alerting).run())
        finally:
            server.stop()
    print("stopped", flush=True)
    return ExitCode.OK


def _rules(args: argparse.Namespace) -> ExitCode:
    path = _config_path(args.config)
    text = render_rules(load_config(path))
    if args.output is None:
        sys.stdout.write(text)
        return ExitCode.OK
    try:
        write_text(args.output, text)
    except OSError as exc:
        raise UsageError(f"could not write the rules to {args.output}: {exc}") from None
    print(f"wrote Prometheus alerting rules for {path} to {args.output}", file=sys.stderr)
    return ExitCode.OK


def _start_alerting(loaded: LoadedConfig, metrics: Metrics, status_url: str) -> Alerting | None:
    if not loaded.config.alerting.enabled:
        return None
    try:
        return Alerting(loaded, metrics, status_url)
    except OSError as exc:
        raise UsageError(
            f"{loaded.source}: alerting.state_dir: cannot write the alert state in "
            f"{loaded.state_dir()}: {exc.strerror or exc}; choose a writable folder, or set "
            "alerting.enabled: false"
        ) from None


def _images_baseline(args: argparse.Namespace) -> ExitCode:
    if args.demo and args.output is None:
        raise UsageError("with --demo, say where to write the baseline with --output PATH")
    with _target(args) as (loaded, _header):
        storefronts = loaded.config.storefronts
        name = args.storefront or (next(iter(storefronts)) if len(storefronts) == 1 else None)
        if name not in storefronts:
            raise UsageError(
                f"name the storefront to record with --storefront; in {loaded.source}: "
                f"{', '.join(storefronts)}"
            )
        path = baseline_path(loaded, name, args.output)
        document = asyncio.run(record_baseline(loaded, name))
    try:
        write_json(path, document)
    except OSError as exc:
        raise UsageError(f"could not write the baseline to {path}: {exc}") from None
    print(f"recorded {len(document['images'])} images of storefront {name!r} in {path}")
    return ExitCode.OK


def _demo_shop(args: argparse.Namespace) -> ExitCode:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    shop = DemoShop(
        host=args.host,
        shop_port=args.port,
        sandbox_port=args.sandbox_port,
        faults=args.fault,
        theme=args.theme,
        admin_token=args.admin_token,
        payment=args.demo_payment,
        overlays=args.demo_overlays,
    )
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # werkzeug prints, then exits
            shop.start()
    except (OSError, SystemExit):
        raise UsageError(
            f"cannot listen on {args.host}:{args.port} (shop) and {args.sandbox_port} "
            "(payment sandbox): a port is in use or not allowed; choose others with --port "
            "and --sandbox-port"
        ) from None
    try:
        print(f"demo shop ({args.theme}) at {shop.shop_url}", flush=True)
        print(
            f"payment sandbox at {shop.sandbox_url} (browsers: {shop.sandbox_public_url}), "
            f"payment: {shop.payment}, overlays: {', '.join(sorted(shop.overlays)) or 'none'}",
            flush=True,
        )
        print(f"faults on: {', '.join(args.fault) or 'none'}", flush=True)
        print(
            f"switch faults at run time: curl -X POST -H 'Authorization: Bearer <admin token>' "
            f"{shop.shop_url}/admin/faults/NAME (DELETE to switch off)",
            flush=True,
        )
        print("Ctrl-C stops it.", flush=True)
        stop.wait()
    finally:
        shop.stop()
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
