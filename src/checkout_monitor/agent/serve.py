"""``checkout-monitor serve``: the agent, its listener and its alerting, wired and run.

The config is loaded again on SIGHUP through ``load``; the listener takes the new web config
with it. Bad config or journeys at start end the command with exit 2, before anything listens.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from prometheus_client import CollectorRegistry

from checkout_monitor.agent.evidence_files import PREFIX
from checkout_monitor.agent.scheduler import Agent
from checkout_monitor.agent.sharding import WHOLE, Shard
from checkout_monitor.agent.status_data import JourneyInfo
from checkout_monitor.agent.status_page import StatusSources, status_pages
from checkout_monitor.agent.status_server import Readiness, StatusServer, is_loopback
from checkout_monitor.alerting.service import Alerting
from checkout_monitor.config.model import LoadedConfig, check_listen
from checkout_monitor.config.web_config import WebConfig, listener_web_config
from checkout_monitor.errors import UsageError
from checkout_monitor.evidence.redaction import redact
from checkout_monitor.history.recorder import HistoryRecorder
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.run.monitors_loader import load_monitors
from checkout_monitor.run.plan import PlannedJourney, plan_journeys
from checkout_monitor.run.target import monitors_dir


@dataclass(frozen=True)
class ServeOptions:
    listen: str | None = None  # HOST:PORT; default agent.listen in the config
    web_config: Path | None = None
    interval: float | None = None  # every journey this often, overriding the config
    monitors: Path | None = None
    shard: Shard = WHOLE  # which of the configured journeys this agent runs


def serve(
    load_config: Callable[[], LoadedConfig],
    header: str,
    options: ServeOptions,
    out: TextIO = sys.stdout,
) -> None:
    """Run the agent until SIGTERM/SIGINT; ``load_config`` is called at start and on reload."""
    listening: list[StatusServer] = []  # a reload brings its new web config to the listener
    web: WebConfig | None = None  # the listener's, as the last good load read it
    current: list[tuple[LoadedConfig, list[PlannedJourney]]] = []  # the status page's

    def load() -> tuple[LoadedConfig, list[PlannedJourney]]:
        nonlocal web
        loaded = load_config()
        loaded.interval_override = options.interval
        read = listener_web_config(loaded, options.web_config)
        planned = plan_journeys(loaded, load_monitors(monitors_dir(options.monitors, loaded)))
        web = read
        for server in listening:
            server.secure(read)
        current[:] = [(loaded, planned)]
        return loaded, planned

    first = load()  # a bad config or journey ends the command here, before anything listens
    loaded = first[0]
    listen = options.listen or loaded.config.agent.listen
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
    alerting = _start_alerting(loaded, metrics, f"{scheme}://{shown_host}:{port}", options.shard)
    pages = {"/alerts": alerting.page} if alerting else {}
    history = _history(loaded, metrics)  # opens its file at the first run, not here

    def artifacts_root() -> Path:  # the reloaded config's, not the first one's
        return current[0][0].artifacts_dir()

    sources = StatusSources(
        journeys=lambda: [
            _journey_info(planned) for planned in current[0][1] if options.shard.owns(planned.name)
        ],
        history_path=lambda: history.path if history else None,
        history_problem=lambda: history.problem if history else None,
        artifacts_root=artifacts_root,
        secrets=lambda: current[0][0].secrets,
        location=lambda: current[0][0].config.location,
    )
    # evidence holds screenshots, page HTML and traces with cookies: on a listener others
    # can reach (the container image's 0.0.0.0), only behind a password
    password_only = () if is_loopback(host) else (PREFIX,)
    try:
        server = StatusServer(
            host,
            int(port),
            registry,
            readiness,
            pages,
            web,
            web_pages=status_pages(sources),
            password_only=password_only,
        ).start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {listen}: {exc.strerror}") from None
    listening.append(server)
    try:
        print(header, file=out, flush=True)
        secured = f" with {web.describe()} ({web.source})" if web else ""
        print(
            f"serving {', '.join(server.paths)} on {scheme}://{server.address}{secured}", file=out
        )
        if web and web.users and not web.tls:
            print(
                "warning: basic auth without TLS: the password crosses the network in clear "
                f"text; add tls_server_config to {web.source}",
                file=sys.stderr,
            )
        if password_only and not (web and web.users):
            print(evidence_warning(host), file=sys.stderr)
        out.flush()
        if alerting is not None:
            print(redact(alerting.describe(), loaded.secrets), file=out, flush=True)
        if history is not None:
            # a path made from ${VAR} would print the variable's value
            print(f"run history: {redact(str(history.path), loaded.secrets)}", file=out, flush=True)
        agent = Agent(
            load,
            metrics,
            readiness,
            alerting=alerting,
            history=history,
            first=first,
            shard=options.shard,
        )
        asyncio.run(agent.run())
    finally:
        server.stop()


def evidence_warning(host: str) -> str:
    """Said once at start by a listener others can reach without a password."""
    return (
        f"warning: listening on {host} without basic auth: {PREFIX} answers 403 until a "
        "web config turns basic auth on (with TLS); see docs/serve.md, 'TLS and a password "
        "for the listener'"
    )


def _start_alerting(
    loaded: LoadedConfig, metrics: Metrics, status_url: str, shard: Shard
) -> Alerting | None:
    if not loaded.config.alerting.enabled:
        return None
    try:  # alert state stays with each journey's owner: this shard judges its own only
        return Alerting(loaded, metrics, status_url, owns=shard.owns)
    except OSError as exc:
        raise UsageError(
            f"{loaded.source}: alerting.state_dir: cannot write the alert state in "
            f"{loaded.state_dir()}: {exc.strerror or exc}; choose a writable folder, or set "
            "alerting.enabled: false"
        ) from None


def _journey_info(planned: PlannedJourney) -> JourneyInfo:
    return JourneyInfo(planned.name, planned.config.owner, planned.config.runbook)


def _history(loaded: LoadedConfig, metrics: Metrics) -> HistoryRecorder | None:
    """The run history's recorder; a database it cannot open is its problem, not serve's."""
    if not loaded.config.history.enabled:
        return None
    return HistoryRecorder.from_config(loaded, source="serve", on_write=metrics.watch_history())
