"""``browser.remote``: journeys whose browser lives in a real ``playwright run-server`` or a
real Chromium with a debugging port, both on loopback; the host fence holding there; and a
server lost mid-run: a failure of the monitor's, never the shop's, then a reconnect."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from playwright.async_api import Browser, async_playwright
from playwright.async_api import Error as PlaywrightError
from prometheus_client.parser import text_string_to_metric_families

from checkout_monitor.browser.allowlist import HostAllowlist
from checkout_monitor.browser.chromium import LAUNCH_FLAGS
from checkout_monitor.browser.host_fence import HostGuard
from checkout_monitor.browser.keeper import BrowserKeeper
from checkout_monitor.browser.launch import ContextFactory, launch_browser
from checkout_monitor.browser.remote import connect_failure
from checkout_monitor.config.loader import load_config
from checkout_monitor.config.model import BrowserConfig, SyntheticMarking
from checkout_monitor.config.remote_browser import RemoteBrowser, RemoteProtocol
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.errors import BrowserUnavailableError
from checkout_monitor.evidence.redaction import Redactor
from support.agent_process import AgentProcess
from support.browser_servers import DebuggingChromium, PlaywrightServer
from support.cli_support import REPO, run_cli, write_shop_config
from support.prometheus_servers import free_port, wait_until
from support.shop_http import held_product_pages

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEMO_JOURNEYS = ("product-to-checkout", "product-images", "discount-codes", "payment-sandbox")
LAB = {"location": "test-lab"}
TOKEN = "s3cret-browser-token"  # in the server's URL: a secret, never printed
PATH_TOKEN = "/s3cret-path-token"  # run-server --path: the only key a run-server has
SHOP_RULE = """alerting:
  min_firing: 0s
  rules:
    - name: shop-down
      journeys: ["*"]
      failures: 1
      of_last: 1
"""


@pytest.fixture(scope="module")
def playwright_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlaywrightServer]:
    # --unsafe: it takes the project's flags for closed networks, which the agent asks for
    server = PlaywrightServer(tmp_path_factory.mktemp("playwright-server"), unsafe=True)
    yield server
    server.kill(signal.SIGTERM)


@pytest.fixture(scope="module")
def debugging_chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DebuggingChromium]:
    chromium = DebuggingChromium(tmp_path_factory.mktemp("debugging-chromium"))
    yield chromium
    chromium.kill(signal.SIGTERM)


@pytest.fixture(scope="module")
def path_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlaywrightServer]:
    server = PlaywrightServer(tmp_path_factory.mktemp("path-server"), path=PATH_TOKEN)
    yield server
    server.kill(signal.SIGTERM)


def remote_config(path: Path, shop: DemoShop, protocol: str, url: str, **extra: object) -> Path:
    """A config for ``shop`` whose browser is the remote one at ``url``."""
    config = write_shop_config(path, shop, **extra)  # type: ignore[arg-type]
    document = yaml.safe_load(config.read_text())
    document["browser"] = {"remote": {"protocol": protocol, "url": url}}
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    return config


def test_run_smoke_passes_the_demo_journeys_in_a_playwright_server(
    tmp_path: Path, start_shop: Callable[..., DemoShop], playwright_server: PlaywrightServer
) -> None:
    config = remote_config(tmp_path / "c.yaml", start_shop(), "playwright", playwright_server.url)
    document = yaml.safe_load(config.read_text())
    document["journeys"] = [{"journey": name, "storefront": "shop"} for name in DEMO_JOURNEYS]
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    launched = len(playwright_server.launches())
    result = run_cli("run-smoke", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ALL PASSED: 4 of 4 journeys passed." in result.stdout, result.stdout
    (launch,) = playwright_server.launches()[launched:]  # the server's browser ran them
    assert set(LAUNCH_FLAGS) <= set(launch.split()), launch  # with the flags the agent sent


def test_run_smoke_passes_in_a_chromium_reached_over_its_debugging_port(
    tmp_path: Path, start_shop: Callable[..., DemoShop], debugging_chromium: DebuggingChromium
) -> None:
    shop = start_shop()
    config = remote_config(tmp_path / "c.yaml", shop, "cdp", debugging_chromium.url)
    result = run_cli("run-smoke", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ALL PASSED: 1 of 1 journeys passed." in result.stdout, result.stdout
    shop_host = shop.shop_url.removeprefix("http://")
    wait_until(lambda: debugging_chromium.requested(shop_host), 10, "the shop in its NetLog")


def test_run_smoke_with_no_browser_server_says_where_and_that_it_is_not_the_shop(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    port = free_port()  # nothing listens there
    url = f"ws://127.0.0.1:{port}/?token={TOKEN}"
    config = remote_config(tmp_path / "c.yaml", start_shop(), "playwright", url)
    result = run_cli("run-smoke", "--config", str(config))
    assert result.returncode == 2, result.stdout + result.stderr  # the monitor's problem
    assert result.stderr == (
        f"run-smoke: could not connect to the remote browser at ws://127.0.0.1:{port}/?*** "
        f"(protocol playwright): WebSocket error: connect ECONNREFUSED 127.0.0.1:{port}; "
        "this is not the shop's fault\n"
    )
    assert TOKEN not in result.stdout


def test_the_fleets_browser_server_url_reaches_a_server_on_its_secret_path_and_hides_it(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    """The Kubernetes browser-server component's URL, its address and path token each from
    the pod's environment, against a real ``run-server --path /<token>``: a wrong token is
    refused as the monitor's problem, and neither token nor address is printed; the right
    one runs the journey there."""
    component = REPO / "deploy" / "kubernetes" / "browser-server" / "browser-remote.yaml"
    section = yaml.safe_load(
        yaml.safe_load(component.read_text())["data"]["agent-and-browser.yaml"]
    )
    url = section["browser"]["remote"]["url"]
    assert url == "${CHECKOUT_MONITOR_BROWSER_SERVER}/${CHECKOUT_MONITOR_BROWSER_TOKEN}"
    token = uuid.uuid4().hex
    server = PlaywrightServer(tmp_path, path=f"/{token}")
    try:
        config = remote_config(tmp_path / "c.yaml", start_shop(), "playwright", url)
        address = f"ws://127.0.0.1:{server.port}"
        env = {"CHECKOUT_MONITOR_BROWSER_SERVER": address}
        wrong = run_cli(
            "run-smoke", "--config", str(config),
            env={**env, "CHECKOUT_MONITOR_BROWSER_TOKEN": TOKEN},
        )  # fmt: skip
        assert wrong.returncode == 2, wrong.stdout + wrong.stderr  # the monitor's problem
        assert (
            "the server answered 400 Bad Request (a `playwright run-server --path` answers on "
            "that path only: check the URL's path); this is not the shop's fault" in wrong.stderr
        )
        for secret in (TOKEN, address, token):
            assert secret not in wrong.stdout + wrong.stderr
        right = run_cli(
            "run-smoke", "--config", str(config),
            env={**env, "CHECKOUT_MONITOR_BROWSER_TOKEN": token},
        )  # fmt: skip
        assert right.returncode == 0, right.stdout + right.stderr
        assert "ALL PASSED: 1 of 1 journeys passed." in right.stdout, right.stdout
        assert len(server.launches()) == 1  # the server's browser ran it
    finally:
        server.kill(signal.SIGTERM)


@pytest.mark.parametrize("protocol", ["playwright", "cdp"])
def test_the_host_fence_holds_on_a_remote_browser(
    protocol: str,
    tmp_path: Path,
    start_shop: Callable[..., DemoShop],
    playwright_server: PlaywrightServer,
    debugging_chromium: DebuggingChromium,
) -> None:
    shop = start_shop()
    url = playwright_server.url if protocol == "playwright" else debugging_chromium.url
    loaded = load_config(remote_config(tmp_path / "c.yaml", shop, protocol, url))
    guard = HostGuard(HostAllowlist.for_profile("shop", loaded.config.storefronts["shop"]))
    # a host the profile does not name, which answers anyone who reaches it
    elsewhere = f"127.0.0.1:{playwright_server.port}"
    config = BrowserConfig(remote=RemoteBrowser.model_validate({"protocol": protocol, "url": url}))

    async def visit() -> tuple[int | None, str]:
        async with async_playwright() as playwright:
            browser = await launch_browser(playwright, config)
            try:
                factory = ContextFactory(browser, config, SyntheticMarking())
                context = await factory.new_context(10, guard)
                page = await context.new_page()
                shop_page = await page.goto(shop.shop_url)
                try:
                    await page.goto(f"http://{elsewhere}/")
                    refused = "not refused"
                except PlaywrightError as exc:
                    refused = exc.message
                await context.close()
                return (shop_page.status if shop_page else None), refused
            finally:
                await browser.close()

    launched = len(playwright_server.launches())
    status, refused = asyncio.run(visit())
    if protocol == "playwright":  # the remote browser, not one launched here, was fenced
        assert len(playwright_server.launches()) == launched + 1
    else:
        shop_host = shop.shop_url.removeprefix("http://")
        wait_until(lambda: debugging_chromium.requested(shop_host), 10, "the shop in its NetLog")
    assert status == 200  # the shop itself is reachable through the fence
    assert "net::ERR_PROXY_CONNECTION_FAILED" in refused, refused
    assert [(b.host, b.navigation) for b in guard.blocked] == [(elsewhere, True)]


def test_a_lost_browser_server_fails_the_run_as_ours_and_the_agent_reconnects(
    tmp_path: Path, start_shop: Callable[..., DemoShop]
) -> None:
    shop = start_shop()
    held = held_product_pages(shop)
    port = free_port()
    url = f"ws://127.0.0.1:{port}{PATH_TOKEN}?token={TOKEN}"  # run-server --path, and a token
    config = remote_config(
        tmp_path / "c.yaml", shop, "playwright", url, defaults={"step_timeout": "15s"}
    )
    # a shop rule that fires on one failure: it must stay quiet, as for a local crash
    config.write_text(config.read_text() + SHOP_RULE + "agent:\n  grace_period: 1s\n")
    shop.faults.enable("slow-product-page", delay_seconds=30)
    journey = {"journey": "product-to-checkout", **LAB}

    def successes(text: str) -> float:
        return value(text, "checkout_journey_runs_total", {**journey, "result": "success"}) or 0

    def alerted(rule: str) -> bool:
        return any(a["rule"] == rule and a["status"] in ("pending", "firing") for a in alerts())

    def alerts() -> list[dict[str, str]]:
        return agent.alerts() if agent is not None else []

    agent: AgentProcess | None = None
    servers: list[PlaywrightServer] = []
    agent_port = free_port()
    log = tmp_path / f"agent-{agent_port}.out"  # where AgentProcess writes its output

    def start_server_once_the_agent_tried() -> None:  # the agent's pod came up first
        wait_until(lambda: log.exists() and "could not connect" in log.read_text(), 60, "a refusal")
        servers.append(PlaywrightServer(tmp_path, port, path=PATH_TOKEN))

    starter = threading.Thread(target=start_server_once_the_agent_tried)
    starter.start()
    try:
        agent = AgentProcess(
            ["--config", str(config), "--interval", "1s"], tmp_path, port=agent_port
        )
        starter.join()
        (server,) = servers
        assert held.acquire(timeout=30), "the run did not reach the product page"
        server.kill()  # the browser server dies under the run
        shop.faults.disable("slow-product-page")
        lost = (
            "product-to-checkout FAILED at step 'open product page' (browser_crash, monitor): "
            f"lost the connection to the remote browser at ws://127.0.0.1:{port}/***?***: "
            "the agent is reconnecting; this is not the shop's fault"
        )
        wait_until(lambda: lost in agent.output(), 60, "the run to fail as the monitor's")
        text = agent.metrics()
        crash = {**journey, "kind": "browser_crash", "class": "monitor"}
        assert (value(text, "checkout_journey_failures_total", crash) or 0) >= 1
        assert value(text, "checkout_browser_connected", LAB) == 0
        assert value(text, "checkout_journey_consecutive_failures", journey) == 0  # not the shop
        # alerting treats it as a local crash: the monitor's alert, never the shop's
        wait_until(lambda: alerted("monitor-unhealthy"), 30, "the monitor's own alert")
        assert "could not start the browser again" in agent.output()  # and keeps trying

        servers.append(PlaywrightServer(tmp_path, port, path=PATH_TOKEN))  # back, same address
        passed = successes(text)
        wait_until(lambda: successes(agent.metrics()) > passed, 60, "a pass after reconnecting")
        text = agent.metrics()
        assert value(text, "checkout_browser_restarts_total", LAB) == 1
        assert value(text, "checkout_browser_connected", LAB) == 1
        assert agent.client.get(f"{agent.url}/readyz").status_code == 200
        assert not alerted("shop-down")
        for secret in (TOKEN, PATH_TOKEN[1:]):
            assert secret not in agent.output() and secret not in text
        code, _took = agent.stop()
        assert code == 0, agent.output()
        assert "Traceback" not in agent.output()
    finally:
        starter.join()
        if agent is not None:
            agent.kill()  # only if SIGTERM did not end it
        for server in servers:
            server.kill()


def loaded_remote(tmp_path: Path, url: str) -> tuple[RemoteBrowser, frozenset[str]]:
    """The remote browser of a config whose ``browser.remote.url`` is ``url``, and the
    config's secrets."""
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "browser": {"remote": {"protocol": "playwright", "url": url}},
                "storefronts": {"shop": {"extends": "demo", "base_url": "http://127.0.0.1:8080"}},
                "journeys": [{"journey": "product-to-checkout", "storefront": "shop"}],
            }
        )
    )
    loaded = load_config(config)
    assert loaded.config.browser.remote is not None
    return loaded.config.browser.remote, loaded.secrets


def test_a_token_in_the_remote_url_is_a_secret_and_never_shown(tmp_path: Path) -> None:
    query_token = uuid.uuid4().hex
    url = (
        f"wss://user:{TOKEN}@browsers.example.com/playwright"
        f"?token={query_token}&browser=chromium&api-key=k3y-value"
    )
    remote, secrets = loaded_remote(tmp_path, url)
    assert {TOKEN, query_token, "k3y-value", "/playwright"} <= secrets  # out of every output
    assert remote.shown_url == "wss://***@browsers.example.com/***?***"
    # a plain query value is no secret: as one, every "chromium" in a log would be ***
    assert "chromium" not in secrets
    assert Redactor(secrets).text("protocol playwright, browser chromium") == (
        "protocol playwright, browser chromium"
    )


def test_a_run_servers_path_token_is_a_secret_and_never_shown(tmp_path: Path) -> None:
    remote, secrets = loaded_remote(tmp_path, f"ws://checkout-monitor-browsers:3000{PATH_TOKEN}")
    assert remote.shown_url == "ws://checkout-monitor-browsers:3000/***"
    assert PATH_TOKEN in secrets
    shown = Redactor(secrets).text(f"connecting to ws://checkout-monitor-browsers:3000{PATH_TOKEN}")
    assert PATH_TOKEN[1:] not in shown
    # the path is the server's address, not a token: nothing to hide there
    plain, none = loaded_remote(tmp_path, "ws://checkout-monitor-browsers:3000/")
    assert (plain.shown_url, none) == ("ws://checkout-monitor-browsers:3000/", frozenset())


class HeldBackoff:
    """The keeper's sleep between tries: each wait noted, then held there for good, so the
    test sees the agent in its backoff for as long as it likes."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.waiting = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.waiting.set()
        await asyncio.Event().wait()


def runs_while_reconnecting(url: str, runs: int) -> tuple[int, list[float], list[str]]:
    """An agent's keeper for the remote browser at ``url``, which it cannot connect to:
    started, reconnecting until its first backoff, then ``runs`` runs asking for a browser.
    (Connect tries made, backoff waits, each run's failure.)"""

    async def main() -> tuple[int, list[float], list[str]]:
        tries = 0
        async with async_playwright() as playwright:

            async def connect(config: BrowserConfig) -> Browser:
                nonlocal tries
                tries += 1
                return await launch_browser(playwright, config)

            remote = RemoteBrowser(protocol=RemoteProtocol.PLAYWRIGHT, url=url)
            backoff = HeldBackoff()
            keeper = BrowserKeeper(connect, BrowserConfig(remote=remote), sleep=backoff)
            await keeper.start()
            keeper.maintain()  # the scheduler's tick: reconnecting
            await backoff.waiting.wait()
            failures = []
            for _ in range(runs):
                with pytest.raises(BrowserUnavailableError) as failed:
                    async with keeper.lease():
                        pass
                failures.append(str(failed.value))
            await keeper.close()
            return tries, backoff.waits, failures

    return asyncio.run(main())


def test_runs_due_while_reconnecting_fail_at_once_and_only_the_backoff_knocks() -> None:
    url = f"ws://127.0.0.1:{free_port()}/"  # nothing listens: the server is down
    tries, waits, failures = runs_while_reconnecting(url, runs=5)
    assert tries == 2  # at start, then the reconnect's first try: none for the 5 runs
    assert waits == [0.5]
    for failure in failures:
        assert failure.startswith(f"could not connect to the remote browser at {url} ")
        assert failure.endswith("this is not the shop's fault")


def test_a_server_refusing_the_agent_is_logged_as_lasting_and_asked_rarely(
    path_server: PlaywrightServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"ws://127.0.0.1:{path_server.port}/"  # the server answers on its --path only
    with caplog.at_level(logging.ERROR, logger="checkout_monitor.browser_lifecycle"):
        tries, waits, failures = runs_while_reconnecting(url, runs=2)
    assert (tries, waits) == (2, [30.0])  # the longest wait at once: it will not pass soon
    assert "the server answered 400 Bad Request" in failures[0]
    assert "answers on that path only" in failures[0]
    refusals = [r.getMessage() for r in caplog.records if "refuses the agent" in r.getMessage()]
    assert len(refusals) == 2  # at start, and the reconnect's try
    assert all("400 Bad Request" in refusal for refusal in refusals)


def test_a_playwright_version_mismatch_is_said_whole(path_server: PlaywrightServer) -> None:
    remote = RemoteBrowser(protocol=RemoteProtocol.PLAYWRIGHT, url=path_server.url)

    async def main() -> BrowserUnavailableError:
        async with async_playwright() as playwright:
            with pytest.raises(PlaywrightError) as refused:  # as an agent on 1.10 would be
                await playwright.chromium.connect(
                    remote.url, headers={"user-agent": "Playwright/1.10.0 (x64; linux)"}
                )
            return connect_failure(refused.value, remote)

    failure = asyncio.run(main())
    assert failure.lasting
    message = str(failure)
    assert "\n" not in message
    assert "the server answered 428 Precondition Required: Playwright version mismatch: " in message
    assert "client version: v1.10" in message
    assert "must be the same minor version" in message
    assert PATH_TOKEN[1:] not in message


def test_a_chromium_over_cdp_is_not_recycled_for_its_runs(
    debugging_chromium: DebuggingChromium,
) -> None:
    """Connecting again reaches the same Chromium: a "fresh" browser would be the old one,
    and the replaced connection (its default context listed for good) never looked idle."""
    remote = RemoteBrowser(protocol=RemoteProtocol.CDP, url=debugging_chromium.url)
    config = BrowserConfig(remote=remote, recycle_after_runs=1)

    async def main() -> tuple[int, list[str]]:
        tries, recycles = 0, []
        async with async_playwright() as playwright:

            async def connect(config: BrowserConfig) -> Browser:
                nonlocal tries
                tries += 1
                return await launch_browser(playwright, config)

            keeper = BrowserKeeper(connect, config, on_recycle=recycles.append)
            await keeper.start()
            contexts = ContextFactory(keeper, config, SyntheticMarking())
            for _ in range(3):
                context = await contexts.new_context(10.0)
                await context.close()
                keeper.maintain()
            await keeper.close()
        return tries, recycles

    tries, recycles = asyncio.run(main())
    assert (tries, recycles) == (1, [])


def value(text: str, name: str, labels: dict[str, str]) -> float | None:
    """A sample's value from a /metrics text, None if it is not there."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None
