"""The browser reaches only the hosts the config names: others are blocked and reported.

The demo shop's foreign-host fault makes every page load a script (directly) and a
stylesheet (through a redirect of the shop's own) from ``localhost``, and redirects
checkout there, while the config names only 127.0.0.1. "localhost" here is a small
counting server of the test's, so a test can see that nothing got through, and the
control run (localhost allowed) that the same pages do reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright
from prometheus_client import CollectorRegistry

from checkout_monitor.browser.allowlist import HostAllowlist, normalize_host
from checkout_monitor.browser.host_fence import MAX_HOSTS, MORE_HOSTS, HostGuard
from checkout_monitor.browser.launch import ContextFactory, launch_browser
from checkout_monitor.config.loader import builtin_profiles, load_config
from checkout_monitor.config.model import BrowserConfig, LoadedConfig, SyntheticMarking
from checkout_monitor.config.storefront_profile import StorefrontProfile
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.metrics.families import Metrics
from checkout_monitor.reports.console import ConsoleReporter, Verbosity
from checkout_monitor.reports.json_report import run_to_dict
from checkout_monitor.reports.run_info import RunInfo
from checkout_monitor.results import BlockedRequest, JourneyResult, StepResult, StepStatus
from checkout_monitor.run.journey import JourneyRun, JourneyStopped
from checkout_monitor.run.monitors_loader import default_monitors_dir, load_monitors
from checkout_monitor.run.plan import plan_journeys
from checkout_monitor.run.smoke import run_smoke
from checkout_monitor.shop.order_api import ShopApi
from checkout_monitor.step_failures import CheckFailed
from support.cli_support import write_shop_config

StartShop = Callable[..., DemoShop]


def refusal(url: str, host: str) -> str:
    return (
        f"the shop sent the browser to {url}: host {host} is not in "
        "storefronts.shop.allowed_hosts: add it there if it is yours"
    )


# --- the allowlist itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "normalized"),
    [
        ("CDN.Example.com", "cdn.example.com"),
        ("shop.example.com.", "shop.example.com"),
        ("*.Example.com", "*.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "[::1]"),
        ("localhost", "localhost"),
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("127.1:8080", "127.0.0.1:8080"),  # as browsers read IPv4 shorthand
        ("2130706433", "127.0.0.1"),
        ("[::1]:8443", "[::1]:8443"),
        ("*.Example.com:8443", "*.example.com:8443"),
        ("*.example.co.uk", "*.example.co.uk"),
        ("*.пример.рф", "*.xn--e1afmkfd.xn--p1ai"),
    ],
)
def test_entries_are_written_as_browsers_write_hosts(entry: str, normalized: str) -> None:
    assert normalize_host(entry) == normalized


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("*", "would allow every host"),
        ("cdn*.example.com", "'*' may only start an entry"),
        ("*.127.0.0.1", "an IP address has no subdomains"),
        ("a..b", "is not a host name"),
        ("shop.example.com:0", "the port must be a number from 1 to 65535"),
        ("shop.example.com:http", "the port must be a number from 1 to 65535"),
        (":8080", "a port without a host"),
        ("*.co.uk", r"every site under co\.uk, a public suffix"),
        ("*.github.io", r"every site under github\.io, a public suffix"),
        ("*.myshopify.com", r"every site under myshopify\.com, a public suffix"),
        # internationalized suffixes, written either way (the list holds them in Unicode)
        ("*.公司.cn", r"every site under xn--55qx5d\.cn, a public suffix"),
        ("*.xn--55qx5d.cn", r"every site under xn--55qx5d\.cn, a public suffix"),
        ("*.ศึกษา.ไทย", r"every site under xn--12c1fe0br\.xn--o3cw4h, a public suffix"),
    ],
)
def test_entries_that_are_no_host(entry: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        normalize_host(entry)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | st.from_regex(r"\*?\.?[a-z0-9.:\[\]/-]{0,30}", fullmatch=True))
def test_any_entry_is_a_host_or_a_plain_error(entry: str) -> None:
    try:
        host = normalize_host(entry)
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert normalize_host(host) == host  # what the config keeps is stable


def test_the_profile_names_its_own_hosts() -> None:
    profile = StorefrontProfile.model_validate(
        {
            **builtin_profiles()["demo"],
            "base_url": "https://Shop.Example.com",
            "payment": {"health_url": "https://status.payments.example:8443/health"},
            "order_api": {
                "cancel": {"url": "https://admin.example.com/orders/{order_number}/cancel"}
            },
            "images": {"pages": ["https://www.example.com/products/mug", "/products/bowl"]},
            "allowed_hosts": ["cdn.example.net", "*.payments.example.org"],
        }
    )
    allowlist = HostAllowlist.for_profile("shop", profile)
    web = {80, 443}
    assert allowlist.origins == {
        *((host, port) for host in ("shop.example.com", "admin.example.com") for port in web),
        *((host, port) for host in ("www.example.com", "cdn.example.net") for port in web),
        ("status.payments.example", 8443),  # a URL's own port, and only that
    }
    assert allowlist.suffixes == ((".payments.example.org", 80), (".payments.example.org", 443))
    for url, allowed in [
        ("https://shop.example.com/cart", True),
        ("http://shop.example.com/cart", True),  # http to https on the shop's own host
        ("http://shop.example.com:8080/", False),  # another service on the shop's host
        ("https://status.payments.example:8443/", True),
        ("https://status.payments.example/", False),
        ("wss://shop.example.com/live", True),
        ("https://cdn.example.net/a.jpg", True),
        ("https://eu.js.payments.example.org/v3", True),
        ("https://payments.example.org/", False),  # "*." means subdomains only
        ("https://example.com/", False),
        ("https://shop.example.com.evil.example/", False),
        ("https://evil.example/?u=https://shop.example.com", False),
        ("https://shop.example.com@evil.example/", False),
        ("file:///etc/passwd", False),
        ("data:image/png;base64,AAAA", True),  # never leaves the browser
        ("blob:https://shop.example.com/1f2e", True),
    ]:
        assert allowlist.allows(url) is allowed, url
    assert allowlist.proxy_bypass() == (
        "<-loopback>,admin.example.com:80,admin.example.com:443,cdn.example.net:80,"
        "cdn.example.net:443,shop.example.com:80,shop.example.com:443,"
        "status.payments.example:8443,www.example.com:80,www.example.com:443,"
        "*.payments.example.org:80,*.payments.example.org:443,"
        ".admin.example.com,.cdn.example.net,.shop.example.com,.status.payments.example,"
        ".www.example.com"
    )


def test_a_page_sent_away_after_its_step_passed_fails_that_step() -> None:
    """The check at a step's end: its page was sent to a foreign host once it was done."""
    refusals = ["the shop sent the browser to evil.example, ..."]
    steps = []

    async def journey() -> None:
        run = JourneyRun(
            shop=None,  # type: ignore[arg-type]  # the steps below touch no shop
            page=None,  # type: ignore[arg-type]
            step_timeout=5,
            journey_timeout=10,
            on_step=steps.append,
            refused_navigation=lambda: refusals.pop() if refusals else None,
        )
        async with run.step("open product page"):
            pass  # the step itself found what it wanted
        async with run.step("add to cart"):
            pass

    with pytest.raises(JourneyStopped):
        asyncio.run(journey())
    ((name, status, kind, message),) = [
        (s.name, s.status, s.failure_kind, s.message) for s in steps
    ]
    assert (name, status, kind) == (
        "open product page",
        StepStatus.FAILED,
        FailureKind.HOST_NOT_ALLOWED,
    )
    assert message.startswith("the shop sent the browser to evil.example")


def test_hosts_are_listed_up_to_a_bound() -> None:
    guard = HostGuard(HostAllowlist.from_entries("shop", ["shop.example.com"]))
    for i in range(MAX_HOSTS + 5):
        guard._note(f"https://tracker-{i}.example/p.gif", navigation=False)
    guard._note("https://tracker-0.example/again.gif", navigation=False)
    blocked = {b.host: b.count for b in guard.blocked}
    assert len(blocked) == MAX_HOSTS + 1  # the hosts past the bound are counted together
    assert blocked["tracker-0.example"] == 2
    assert blocked[MORE_HOSTS] == 5


def test_blocked_requests_are_counted_and_reported() -> None:
    blocked = (BlockedRequest("fonts.example", 3, "https://fonts.example/a.css"),)
    earlier = _result(ok=False, blocked=blocked)
    result = _result(ok=True, blocked=blocked, earlier=(earlier,))
    registry = CollectorRegistry()
    Metrics(registry, "lab").observe(result)
    labels = {"journey": "discount-codes", "location": "lab"}
    assert registry.get_sample_value("checkout_requests_blocked_total", labels) == 6
    out = io.StringIO()
    ConsoleReporter(out).journey_finished(result)
    ConsoleReporter(out, verbosity=Verbosity.QUIET).run_finished([result], 1.0)
    summary = "; requests to hosts not allowed, blocked: discount-codes (3). Total wall time"
    assert summary in out.getvalue()
    assert (
        "Blocked 3 requests to hosts not in storefronts.shop.allowed_hosts: fonts.example "
        "(3, e.g. https://fonts.example/a.css)"
    ) in out.getvalue()
    document = run_to_dict([result], _info())
    (journey,) = document["journeys"]
    assert journey["blocked_requests"] == [
        {
            "host": "fonts.example",
            "count": 3,
            "example_url": "https://fonts.example/a.css",
            "navigation": False,
        }
    ]
    assert journey["attempts"][0]["blocked_requests"] == journey["blocked_requests"]


def _info() -> RunInfo:
    return RunInfo(datetime.now(UTC), 1.0, release=None, location="lab", header="")


def _result(
    *, ok: bool, blocked: tuple[BlockedRequest, ...], earlier: tuple[JourneyResult, ...] = ()
) -> JourneyResult:
    step = StepResult(
        "apply SAVE10",
        StepStatus.PASSED if ok else StepStatus.FAILED,
        0.1,
        None if ok else FailureKind.TIMEOUT,
    )
    return JourneyResult(
        name="discount-codes",
        journey="discount-codes",
        storefront="shop",
        location="lab",
        started_at=datetime.now(UTC),
        duration_seconds=1.0,
        steps=(step,),
        attempt=len(earlier) + 1,
        earlier_attempts=earlier,
        blocked_requests=blocked,
    )


# --- with the real browser and the demo shop --------------------------------------------


class _Counter(ThreadingHTTPServer):
    hits: list[tuple[str, str]]


class _CountingHandler(BaseHTTPRequestHandler):
    """Answers anything with a small page and remembers it was asked."""

    server: _Counter

    def do_GET(self) -> None:
        self.server.hits.append((self.headers.get("Host", ""), self.path))
        if self.path.startswith("/away"):  # a redirect to the same server, named localhost
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/x")
            self.end_headers()
            return
        body = b"reached"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def foreign_server() -> Iterator[_Counter]:
    """The "foreign host": reached as localhost:PORT, it counts every request it gets."""
    server = _Counter(("127.0.0.1", 0), _CountingHandler)
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _run(
    tmp_path: Path,
    shop: DemoShop,
    journeys: list[str],
    *,
    allowed_hosts: list[str] | None = None,
    step_timeout: str = "10s",
) -> tuple[list[JourneyResult], str]:
    storefront: dict[str, object] = {
        # one code of each outcome is enough here, and quicker than the demo's five
        "discounts": {"valid": [{"code": "SAVE10", "percent_off": 10}], "must_reject": []},
    }
    if allowed_hosts is not None:
        storefront["allowed_hosts"] = allowed_hosts
    path = write_shop_config(
        tmp_path / "config.yaml",
        shop,
        storefront=storefront,
        defaults={"step_timeout": step_timeout},
    )
    document = yaml.safe_load(path.read_text())
    document["journeys"] = [{"journey": name, "storefront": "shop"} for name in journeys]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    loaded: LoadedConfig = load_config(path, dict(os.environ))
    planned = plan_journeys(loaded, load_monitors(default_monitors_dir()))
    out = io.StringIO()
    results = asyncio.run(run_smoke(loaded.config, planned, ConsoleReporter(out)))
    return results, out.getvalue()


def _foreign_shop(start_shop: StartShop, server: _Counter) -> DemoShop:
    port = server.server_address[1]
    return start_shop(faults=["foreign-host"], fault_params={"foreign-host": {"port": port}})


@pytest.mark.browser
def test_foreign_hosts_are_blocked_and_reported(
    tmp_path: Path, start_shop: StartShop, foreign_server: _Counter
) -> None:
    shop = _foreign_shop(start_shop, foreign_server)
    results, console = _run(tmp_path, shop, ["product-to-checkout", "discount-codes"])
    checkout, discounts = results
    foreign = f"localhost:{foreign_server.server_address[1]}"

    # The checkout's redirect to localhost fails its step at once, with a plain message.
    failed = checkout.failed_step
    assert failed is not None
    assert (failed.name, failed.failure_kind, failed.message) == (
        "go to checkout",
        FailureKind.HOST_NOT_ALLOWED,
        refusal(f"http://{foreign}/checkout", foreign),
    )
    assert failed.duration_seconds < 10  # it did not wait out its step timeout
    (blocked,) = checkout.blocked_requests
    assert (blocked.host, blocked.navigation) == (foreign, True)

    # Pages that only pull in a foreign script and stylesheet pass, with a warning.
    assert discounts.ok
    (pulled,) = discounts.blocked_requests
    assert (pulled.host, pulled.navigation) == (foreign, False)
    assert pulled.count >= 4  # a script and a redirected stylesheet on product and cart
    assert "Blocked" in console and f"storefronts.shop.allowed_hosts: {foreign}" in console

    # Nothing reached the foreign host: not the script, not the redirect hops.
    assert foreign_server.hits == []


@pytest.mark.browser
def test_the_same_pages_reach_a_host_once_it_is_allowed(
    tmp_path: Path, start_shop: StartShop, foreign_server: _Counter
) -> None:
    """The control: without the block, the fault's requests do arrive."""
    shop = _foreign_shop(start_shop, foreign_server)
    results, _ = _run(
        tmp_path,
        shop,
        ["product-to-checkout", "discount-codes"],
        allowed_hosts=[f"localhost:{foreign_server.server_address[1]}"],
        step_timeout="5s",  # the counting server is no checkout: that step fails anyway
    )
    checkout, discounts = results
    assert checkout.failure_kind is not FailureKind.HOST_NOT_ALLOWED
    assert discounts.ok and discounts.blocked_requests == ()
    paths = {
        path.split("?")[0] for host, path in foreign_server.hits if host.startswith("localhost:")
    }
    assert {"/vendor/tracker.js", "/vendor/fonts.css", "/checkout"} <= paths


def test_fetches_outside_the_browser_ask_first(foreign_server: _Counter) -> None:
    """The image checker's httpx client, given the allowlist's request hook, never sends a
    request to a foreign host, not even as a redirect hop."""
    port = foreign_server.server_address[1]
    allowlist = HostAllowlist.from_entries("shop", [f"127.0.0.1:{port}"])

    async def fetch(url: str) -> str:
        hooks = {"request": [allowlist.check_request]}
        async with httpx.AsyncClient(follow_redirects=True, event_hooks=hooks) as client:
            try:
                return str((await client.get(url)).status_code)
            except httpx.HTTPError as exc:
                return str(exc)

    said = (
        f"its host localhost:{port} is not in storefronts.shop.allowed_hosts: add it there if "
        "it is yours"
    )
    assert asyncio.run(fetch(f"http://127.0.0.1:{port}/own")) == "200"
    assert asyncio.run(fetch(f"http://localhost:{port}/image.jpg")) == said
    assert asyncio.run(fetch(f"http://127.0.0.1:{port}/away")) == said
    assert [path for _host, path in foreign_server.hits] == ["/own", "/away"]


@pytest.mark.browser
def test_requests_outside_the_page_are_fenced_too(foreign_server: _Counter) -> None:
    """The context's own API requests and a page's WebSocket cannot reach a foreign host
    either; a frame sent there is a blocked sub-resource, a page a script sends there is
    a refused navigation."""
    port = foreign_server.server_address[1]
    allowed = f"http://127.0.0.1:{port}"
    foreign = f"http://localhost:{port}"

    async def scenario() -> tuple[HostGuard, str, int, str | None, str | None]:
        guard = HostGuard(HostAllowlist.from_entries("shop", [f"127.0.0.1:{port}"]))
        async with async_playwright() as playwright:
            browser = await launch_browser(playwright, BrowserConfig())
            try:
                factory = ContextFactory(browser, BrowserConfig(), SyntheticMarking())
                context = await factory.new_context(5, guard)
                answer = await context.request.get(f"{allowed}/own-api")
                try:
                    await context.request.get(f"{foreign}/api")
                    outcome = "reached"
                except PlaywrightError as exc:
                    outcome = exc.message
                page = await context.new_page()
                await page.set_content(
                    f"<iframe src='{foreign}/frame'></iframe>"
                    f"<script>new WebSocket('ws://localhost:{port}/live')</script>"
                )
                await page.wait_for_timeout(500)
                frame_refused = guard.take_refused_navigation()
                await page.evaluate(f"location.href = '{foreign}/by-script'")
                await page.wait_for_timeout(500)
                await context.close()
            finally:
                await browser.close()
        return guard, outcome, answer.status, frame_refused, guard.take_refused_navigation()

    guard, outcome, own_status, frame_refused, script_refused = asyncio.run(scenario())
    assert own_status == 200
    assert outcome != "reached"
    assert [path for _host, path in foreign_server.hits] == ["/own-api"]
    assert frame_refused is None  # a frame is not the page
    assert script_refused == refusal(f"{foreign}/by-script", f"localhost:{port}")
    (blocked,) = guard.blocked
    assert (blocked.host, blocked.navigation, blocked.count) == (f"localhost:{port}", True, 3)


@pytest.mark.browser
def test_another_port_of_the_shops_own_host_is_another_host(foreign_server: _Counter) -> None:
    """A shop on 127.0.0.1:PORT cannot send the browser to another service on 127.0.0.1
    (on shared hosting: a neighbour), however the address is spelled; nor the image
    checker, nor the journey's own API calls."""
    neighbour = foreign_server.server_address[1]

    async def scenario() -> tuple[list[str | None], str]:
        with _served_page() as shop_port:
            allowlist = HostAllowlist.from_entries("shop", [f"127.0.0.1:{shop_port}"])
            guard = HostGuard(allowlist)
            refused: list[str | None] = []
            async with async_playwright() as playwright:
                browser = await launch_browser(playwright, BrowserConfig())
                try:
                    factory = ContextFactory(browser, BrowserConfig(), SyntheticMarking())
                    context = await factory.new_context(5, guard)
                    page = await context.new_page()
                    await page.goto(f"http://127.0.0.1:{shop_port}/")
                    for spelling in ("127.0.0.1", "127.1", "2130706433"):
                        with contextlib.suppress(PlaywrightError):
                            await page.goto(f"http://{spelling}:{neighbour}/x", timeout=5000)
                        refused.append(guard.take_refused_navigation())
                    api = ShopApi(
                        context.request,
                        StorefrontProfile.model_validate(
                            {
                                **builtin_profiles()["demo"],
                                "base_url": f"http://127.0.0.1:{shop_port}",
                            }
                        ),
                        time_left=lambda: 5.0,
                        allowlist=allowlist,
                    )
                    form = {
                        "action": f"http://127.0.0.1:{neighbour}/replay",
                        "method": "post",
                        "fields": [],
                    }
                    try:
                        await api.replay_stale_token(form)
                        api_said = "reached"
                    except CheckFailed as failure:
                        api_said = f"{failure.kind.value}: {failure.message}"
                    await context.close()
                finally:
                    await browser.close()
        return refused, api_said

    refused, api_said = asyncio.run(scenario())
    neighbour_host = f"127.0.0.1:{neighbour}"
    assert refused == [refusal(f"http://{neighbour_host}/x", neighbour_host)] * 3
    assert api_said == (
        f"host_not_allowed: the replayed checkout form would go to http://{neighbour_host}/replay, "
        f"but its host {neighbour_host} is not in storefronts.shop.allowed_hosts: add it there "
        "if it is yours"
    )
    assert foreign_server.hits == []


def test_image_fetches_keep_to_the_shops_port(foreign_server: _Counter) -> None:
    neighbour = foreign_server.server_address[1]
    allowlist = HostAllowlist.from_entries("shop", ["127.0.0.1:1"])

    async def fetch(url: str) -> str:
        hooks = {"request": [allowlist.check_request]}
        async with httpx.AsyncClient(event_hooks=hooks) as client:
            try:
                return str((await client.get(url)).status_code)
            except httpx.HTTPError as exc:
                return str(exc)

    for spelling in ("127.0.0.1", "127.1", "2130706433"):
        assert asyncio.run(fetch(f"http://{spelling}:{neighbour}/photo.jpg")) == (
            f"its host 127.0.0.1:{neighbour} is not in storefronts.shop.allowed_hosts: add it "
            "there if it is yours"
        )
    assert foreign_server.hits == []


@contextlib.contextmanager
def _served_page() -> Iterator[int]:
    """A one-page "shop" on a free port of 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    server.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
