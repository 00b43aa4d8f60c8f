"""The typed, validated shape of a config file (see config.example.yaml for every option)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from checkout_monitor.config.alerting import AlertingConfig
from checkout_monitor.config.fields import SECONDS, HeaderValue, Name, StrictModel, between
from checkout_monitor.config.remote_browser import RemoteBrowser
from checkout_monitor.config.storefront_profile import StorefrontProfile

STATE_DIR_ENV = "CHECKOUT_MONITOR_STATE_DIR"  # the container image points it at a volume
DEFAULT_STATE_DIR = "checkout-monitor-state"
ARTIFACTS_DIR_ENV = "CHECKOUT_MONITOR_ARTIFACTS_DIR"
DEFAULT_ARTIFACTS_DIR = "checkout-monitor-artifacts"
HISTORY_FILE = "history.sqlite3"

StepTimeout = Annotated[float, SECONDS, between(0.5, 600)]
JourneyTimeout = Annotated[float, SECONDS, between(1, 3600)]
Interval = Annotated[float, SECONDS, between(10, 86400)]


class BrowserConfig(StrictModel):
    """The Chromium the journeys drive."""

    executable: str | None = None
    headless: bool = True
    extra_args: list[str] = Field(default_factory=list)
    viewport_width: int = Field(1280, ge=320, le=3840)
    viewport_height: int = Field(800, ge=320, le=2160)
    locale: str = "en-GB"
    # serve: a fresh Chromium after this many runs (retries count), or once the browser's
    # processes hold more than this much memory (summed RSS); the old one ends its runs first
    recycle_after_runs: int = Field(200, ge=1, le=100_000)
    recycle_above_mib: int | None = Field(None, ge=256, le=65_536)
    remote: RemoteBrowser | None = Field(
        None, description="connect to this browser instead of launching one"
    )


class SyntheticMarking(StrictModel):
    """How every request says it is synthetic, so the shop's analytics can drop it."""

    user_agent_suffix: HeaderValue = Field("(synthetic)", min_length=1)  # in User-Agent
    header_name: str = Field("X-Synthetic-Monitor", pattern=r"^[A-Za-z0-9-]+$")
    header_value: HeaderValue = Field("checkout-monitor", min_length=1)


class Defaults(StrictModel):
    """Timeouts, interval and retries of every journey that does not set its own."""

    step_timeout: StepTimeout = 15.0
    journey_timeout: JourneyTimeout = 120.0
    interval: Interval = 300.0
    navigation_retries: int = Field(1, ge=0, le=5)
    retries: int = Field(1, ge=0, le=3)  # a failed journey runs again before it counts


def check_listen(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not HOST:PORT, e.g. 127.0.0.1:9115 or 0.0.0.0:9115")
    return value


class AgentConfig(StrictModel):
    """How `checkout-monitor serve` runs: its listener, concurrency and shutdown."""

    listen: Annotated[
        str,
        AfterValidator(check_listen),
        WithJsonSchema({"type": "string", "pattern": "^.+:[0-9]+$"}),
    ] = "127.0.0.1:9115"
    max_concurrent_journeys: int = Field(2, ge=1, le=16)
    jitter: float = Field(0.1, ge=0, le=0.5, description="fraction of the interval")
    grace_period: Annotated[float, SECONDS, between(1, 600)] = 30.0
    # TLS and basic auth for the listener, in the format of Prometheus's exporter toolkit
    web_config_file: str | None = Field(None, min_length=1)


class TraceCapture(StrEnum):
    RETRY = "retry"  # trace only a failed journey's retry: passing runs pay nothing
    ALWAYS = "always"  # trace every attempt, keep the traces of failed ones
    NEVER = "never"


class ArtifactsConfig(StrictModel):
    """Where the evidence of failures goes, and how much of it is kept."""

    # default: $CHECKOUT_MONITOR_ARTIFACTS_DIR, else checkout-monitor-artifacts beside the config
    dir: str | None = None
    keep_runs: int = Field(20, ge=1, le=10_000)
    max_megabytes: int = Field(500, ge=10, le=100_000)
    traces: TraceCapture = TraceCapture.RETRY


def _no_unit(value: object) -> object:
    """'200MB' is the likeliest mistake: say what to write instead of pydantic's words.
    Digits alone pass on as the other whole numbers do: a ``${ENV}`` value is text."""
    if isinstance(value, str) and not value.strip().isdigit():
        raise ValueError(
            f"{value!r} is not a number of megabytes: write a whole number without a unit, e.g. 200"
        )
    return value


class HistoryConfig(StrictModel):
    """The run history: every journey run ``serve`` finishes, in a SQLite file."""

    enabled: bool = True
    path: str | None = Field(None, min_length=1)  # default: history.sqlite3 in the state dir
    retention_days: int = Field(30, ge=1, le=3650)
    # above it, the oldest runs go first
    max_megabytes: Annotated[int, BeforeValidator(_no_unit)] = Field(200, ge=1, le=100_000)


class JourneyConfig(StrictModel):
    """One journey (by its registered name) run on one storefront."""

    journey: Name
    name: Name | None = None
    storefront: Name
    enabled: bool = True
    step_timeout: StepTimeout | None = None
    journey_timeout: JourneyTimeout | None = None
    interval: Interval | None = None
    owner: str | None = None
    runbook: str | None = None
    tags: list[Name] = Field(default_factory=list)
    place_order: bool = Field(
        True, description="false: a dry run that stops before the final checkout submit"
    )
    retries: int | None = Field(None, ge=0, le=3, description="overrides defaults.retries")

    @property
    def display_name(self) -> str:
        return self.name or self.journey


class Config(StrictModel):
    """A checkout-monitor config file: storefronts, the journeys run on them, and alerts."""

    location: Name = Field(
        "local", description="where this agent runs: the `location` label of every metric"
    )
    monitors_dir: str | None = Field(
        None, description="folder of your own journey files, relative to this file"
    )
    browser: BrowserConfig = Field(
        default_factory=BrowserConfig, description="the Chromium the journeys drive"
    )
    synthetic: SyntheticMarking = Field(
        default_factory=SyntheticMarking,
        description="how every request says it is synthetic, for the shop's analytics",
    )
    defaults: Defaults = Field(
        default_factory=Defaults, description="timeouts, interval and retries of every journey"
    )
    agent: AgentConfig = Field(
        default_factory=AgentConfig,
        description="how `checkout-monitor serve` runs: listener, concurrency, shutdown",
    )
    storefronts: dict[Name, StorefrontProfile] = Field(
        min_length=1,
        description="the shops, by name: URLs, selectors, test shopper and card; "
        "`extends:` a built-in profile to change only what differs",
    )
    journeys: list[JourneyConfig] = Field(
        min_length=1, description="which journey runs on which storefront, how often"
    )
    alerting: AlertingConfig = Field(
        default_factory=AlertingConfig, description="alert rules and the channels alerts go to"
    )
    artifacts: ArtifactsConfig = Field(
        default_factory=ArtifactsConfig,
        description="where the evidence of failures goes, and how much of it is kept",
    )
    history: HistoryConfig = Field(
        default_factory=HistoryConfig,
        description="the run history: every journey run in a SQLite file, and how long it is kept",
    )


class LoadedConfig:
    """A validated config with where it came from and the secret values it holds."""

    def __init__(
        self,
        config: Config,
        source: str,
        base_dir: Path,
        secrets: frozenset[str] = frozenset(),
        lines: Mapping[tuple[str | int, ...], int] | None = None,
    ) -> None:
        self.config = config
        self.source = source
        self.base_dir = base_dir
        self.secrets = secrets
        self.lines = lines or {}
        self.step_timeout_override: float | None = None  # run-smoke --step-timeout
        self.interval_override: float | None = None  # serve --interval
        self.retries_override: int | None = None  # run-smoke --retries

    def monitors_dir(self) -> Path | None:
        if self.config.monitors_dir is None:
            return None
        return (self.base_dir / self.config.monitors_dir).resolve()

    def state_dir(self) -> Path:
        """Where alert state and the delivery outbox live."""
        return self._folder(self.config.alerting.state_dir, STATE_DIR_ENV, DEFAULT_STATE_DIR)

    def artifacts_dir(self) -> Path:
        """Where evidence of failures goes."""
        return self._folder(self.config.artifacts.dir, ARTIFACTS_DIR_ENV, DEFAULT_ARTIFACTS_DIR)

    def _folder(self, configured: str | None, env: str, default: str) -> Path:
        """The config's value, else the environment's (the container image sets it), else
        ``default``; relative paths are relative to the config file."""
        given = configured or os.environ.get(env) or default
        return (self.base_dir / given).resolve()

    def history_path(self) -> Path:
        """The run history database, relative to the config file; default in the state dir."""
        given = self.config.history.path
        if given is None:
            return self.state_dir() / HISTORY_FILE
        return (self.base_dir / given).resolve()

    def web_config_file(self) -> Path | None:
        """The listener's web config (TLS, basic auth), relative to the config file."""
        given = self.config.agent.web_config_file
        return None if given is None else (self.base_dir / given).resolve()

    def retries(self, journey: JourneyConfig) -> int:
        if self.retries_override is not None:
            return self.retries_override
        return journey.retries if journey.retries is not None else self.config.defaults.retries

    def step_timeout(self, journey: JourneyConfig) -> float:
        if self.step_timeout_override is not None:
            return self.step_timeout_override
        return float(journey.step_timeout or self.config.defaults.step_timeout)

    def interval(self, journey: JourneyConfig) -> float:
        if self.interval_override is not None:
            return self.interval_override
        return float(journey.interval or self.config.defaults.interval)

    def journey_timeout(self, journey: JourneyConfig) -> float:
        return float(journey.journey_timeout or self.config.defaults.journey_timeout)
