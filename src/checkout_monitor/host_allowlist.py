"""Which hosts one storefront's browser may talk to: every host its profile names, plus its
``allowed_hosts`` (CDNs, payment pages). Anything else is blocked and reported.

Hosts are compared without ports: ``http://127.0.0.1:8080`` allows 127.0.0.1 on any port,
so an ``http`` to ``https`` redirect on the shop's own host never trips the check. Pure
logic, no browser: the config validates entries with ``normalize_host``, the browser
context is fenced with ``proxy_bypass`` (see ``host_guard``), and anything fetching URLs
outside the browser (the image checker) asks ``allows``, or gives its httpx client
``check_request`` as a request hook, which sees every redirect hop too.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from checkout_monitor.storefront_profile import StorefrontProfile

# Schemes that never leave the browser: nothing to allow or block.
_LOCAL_SCHEMES = frozenset({"data", "blob", "about", "javascript"})
_NETWORK_SCHEMES = frozenset({"http", "https", "ws", "wss"})
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_HINT = "write a host name such as cdn.example.com, or *.example.com for its subdomains"


def normalize_host(raw: str) -> str:
    """One ``allowed_hosts`` entry in the form browsers put in URLs (lower case, IDNA,
    IPv6 in brackets); ``ValueError`` says what is wrong and what would be valid."""
    entry = raw.strip()
    shown = _shown(raw)
    if "://" in entry or "/" in entry:
        host = _url_hostname(entry if "://" in entry else f"//{entry}")
        only = f"its host only, {host!r}" if host else "a host only, e.g. cdn.example.com"
        raise ValueError(f"{shown} is a URL or path, not a host: write {only}")
    wildcard = entry.startswith("*.")
    name = entry[2:] if wildcard else entry
    if "*" in name:
        if entry == "*":
            raise ValueError("'*' would allow every host; list the hosts the shop uses instead")
        raise ValueError(f"{shown}: '*' may only start an entry, as in '*.example.com'")
    address = _ip_address(name)
    if address is not None:
        if wildcard:
            raise ValueError(f"{shown}: an IP address has no subdomains; write {name!r}")
        return f"[{address}]" if address.version == 6 else str(address)
    bare, colon, _port = name.rpartition(":")
    if colon and bare and (":" not in bare or (bare[0], bare[-1]) == ("[", "]")):
        raise ValueError(f"{shown} names a port, but hosts are allowed on any port: write {bare!r}")
    host = _idna(name.rstrip("."), shown)
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{shown} is not a host name: {_HINT}")
    if wildcard and len(labels) < 2:
        raise ValueError(
            f"{shown} would allow a whole top-level domain; name the shop's own domain, "
            "e.g. '*.example.com'"
        )
    return f"*.{host}" if wildcard else host


def _shown(raw: str) -> str:
    """An entry quoted for an error message, cut short: a message stays one line."""
    return repr(raw) if len(raw) <= 80 else repr(raw[:77] + "...")


def _url_hostname(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""


def _ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _idna(name: str, shown: str) -> str:
    """Browsers send international names as punycode; compare in that form."""
    try:
        return name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"{shown} is not a host name: {_HINT}") from None


def url_host(url: str) -> str | None:
    """The host of an absolute network URL as browsers write it; None for anything else."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in _NETWORK_SCHEMES or not host:
        return None
    address = _ip_address(host)
    if address is not None:
        return f"[{address}]" if address.version == 6 else str(address)
    try:
        return _idna(host.rstrip("."), host)
    except ValueError:
        return host.lower()


@dataclass(frozen=True)
class HostAllowlist:
    """The hosts a storefront's browser may reach; ``storefront`` names it in messages."""

    storefront: str
    hosts: frozenset[str]  # exact hosts
    suffixes: tuple[str, ...] = ()  # from "*.example.com": ".example.com"

    @classmethod
    def for_profile(cls, storefront: str, profile: StorefrontProfile) -> HostAllowlist:
        """Every host an absolute URL of the profile names, plus its ``allowed_hosts``."""
        named = {host for url in _urls_in(profile.model_dump()) if (host := url_host(url))}
        listed = cls.from_entries(storefront, profile.allowed_hosts)
        # hosts taken from URLs are in the browser's form already, whatever they look like
        return replace(listed, hosts=listed.hosts | named)

    @classmethod
    def from_entries(cls, storefront: str, entries: Iterable[str]) -> HostAllowlist:
        exact: set[str] = set()
        suffixes: list[str] = []
        for entry in entries:
            host = normalize_host(entry)
            if host.startswith("*."):
                suffixes.append(host[1:])
            else:
                exact.add(host)
        return cls(storefront, frozenset(exact), tuple(dict.fromkeys(suffixes)))

    @property
    def setting(self) -> str:
        """Where a person adds a host: the config path of the list."""
        return f"storefronts.{self.storefront}.allowed_hosts"

    def allows_host(self, host: str) -> bool:
        return host in self.hosts or any(host.endswith(suffix) for suffix in self.suffixes)

    def allows(self, url: str) -> bool:
        """Whether the browser (or a fetch on its behalf) may request ``url``; URLs that
        never leave the browser (data:, blob:, about:) are always allowed."""
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme in _LOCAL_SCHEMES:
            return True
        host = url_host(url)
        return host is not None and self.allows_host(host)

    def refusal(self, url: str) -> str:
        """The plain-English failure for a page sent to ``url``."""
        return f"the shop sent the browser to {self._outside(url)}"

    async def check_request(self, request: httpx.Request) -> None:
        """An httpx request hook (``event_hooks={"request": [allowlist.check_request]}``):
        a request, or a redirect hop, to a host not allowed is never sent."""
        url = str(request.url)
        if not self.allows(url):
            host = url_host(url) or url
            raise HostNotAllowedError(
                f"its host {host} is not in {self.setting}: add it there if it is yours",
                request=request,
            )

    def _outside(self, url: str) -> str:
        host = url_host(url) or url
        return f"{host}, which is not in {self.setting}: add it there if it is yours"

    def proxy_bypass(self) -> str:
        """The allowed hosts as a Chromium proxy bypass list. ``<-loopback>`` first: without
        it Chromium lets localhost and 127.0.0.1 through whatever the list says."""
        rules = ["<-loopback>", *sorted(self.hosts), *(f"*{s}" for s in self.suffixes)]
        return ",".join(rules)


class HostNotAllowedError(httpx.RequestError):
    """A fetch outside the browser refused before it was sent: its host is not allowed."""


def _urls_in(value: Any) -> Iterator[str]:
    """Every absolute http(s) URL anywhere in a profile, so a new URL field needs no code."""
    if isinstance(value, str):
        if value.lower().startswith(("http://", "https://")):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _urls_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _urls_in(item)
