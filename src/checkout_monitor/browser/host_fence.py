"""Keep one journey attempt's browser context to its storefront's allowed hosts, and note
every request it blocked.

The fence is the context's proxy setting, not request routing: the allowed hosts bypass
a proxy that refuses every connection, so anything else fails inside the browser's
network stack. That holds for what routing cannot see (redirect hops, which Playwright
never routes; service workers; WebSockets; the context's own API requests), and costs
nothing per allowed request: no request makes a trip through Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.async_api import BrowserContext, Page, ProxySettings, Request, WebSocket

from checkout_monitor.browser.allowlist import HostAllowlist, blocked_host
from checkout_monitor.results import BlockedRequest

# A loopback port nothing serves (binding it needs root): connections to it are refused at
# once, so a blocked request fails in microseconds, not after a timeout.
REFUSING_PROXY = "http://127.0.0.1:1"
MAX_HOSTS = 20  # listed one by one; requests to further hosts are counted together
MORE_HOSTS = "(more hosts)"


@dataclass
class _Tally:
    count: int
    example_url: str
    navigation: bool


@dataclass
class HostGuard:
    """Built per attempt; ``on_navigation_blocked`` is called when a page itself is sent to
    a host not allowed (the journey fails that step at once instead of waiting it out)."""

    allowlist: HostAllowlist
    on_navigation_blocked: Callable[[], None] | None = None
    _hosts: dict[str, _Tally] = field(default_factory=dict)
    _refused: list[str] = field(default_factory=list)  # main-frame URLs not yet reported

    @property
    def proxy(self) -> ProxySettings:
        return {"server": REFUSING_PROXY, "bypass": self.allowlist.proxy_bypass()}

    def watch(self, context: BrowserContext) -> None:
        """Note blocked requests of every page the context opens from now on."""
        context.on("requestfailed", self._request_failed)
        context.on("page", self._watch_page)

    def take_refused_navigation(self) -> str | None:
        """The failure for the first page sent off the allowed hosts since the last call."""
        refused, self._refused = self._refused, []
        return self.allowlist.refusal(refused[0]) if refused else None

    @property
    def blocked(self) -> tuple[BlockedRequest, ...]:
        return tuple(
            BlockedRequest(host, tally.count, tally.example_url, tally.navigation)
            for host, tally in self._hosts.items()
        )

    def _watch_page(self, page: Page) -> None:
        page.on("websocket", self._websocket)

    def _websocket(self, socket: WebSocket) -> None:
        if not self.allowlist.allows(socket.url):
            self._note(socket.url, navigation=False)

    def _request_failed(self, request: Request) -> None:
        # Every request to a host not allowed fails (the proxy refuses it); one to an
        # allowed host that failed is the shop's own problem, left to the evidence.
        if self.allowlist.allows(request.url):
            return
        navigation = request.is_navigation_request() and _in_main_frame(request)
        self._note(request.url, navigation=navigation)
        if navigation:
            self._refused.append(request.url)
            if self.on_navigation_blocked is not None:
                self.on_navigation_blocked()

    def _note(self, url: str, *, navigation: bool) -> None:
        host = blocked_host(url) if "://" in url else url.split(":", 1)[0]
        if host not in self._hosts and len(self._hosts) >= MAX_HOSTS:
            host = MORE_HOSTS
        tally = self._hosts.setdefault(host, _Tally(0, url[:300], navigation))
        tally.count += 1
        tally.navigation = tally.navigation or navigation


def _in_main_frame(request: Request) -> bool:
    try:
        return request.frame.parent_frame is None
    except Exception:  # a service worker's request has no frame
        return False
