"""Which hosts and ports one storefront's browser may talk to: every host and port its
profile's URLs name, plus its ``allowed_hosts`` (CDNs, payment pages). Anything else is
blocked and reported.

Hosts are compared with their ports, so a shop on 127.0.0.1:8080 cannot send the browser
to another service on 127.0.0.1 (on shared hosting: a neighbour). A URL of the profile
allows its own port; one on the default port (``https://shop.example.com``) allows both
80 and 443, so an ``http`` to ``https`` redirect on the shop's own host never trips the
check, and so does an ``allowed_hosts`` entry written without a port. IP addresses are
compared in the form browsers put them in (``127.1`` and ``2130706433`` are 127.0.0.1).

Pure logic, no browser: the config validates entries with ``normalize_host``, the browser
context is fenced with ``proxy_bypass`` (see ``host_guard``), and anything fetching URLs
outside the browser (the image checker) asks ``allows``, or gives its httpx client
``check_request`` as a request hook, which sees every redirect hop too.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

    from checkout_monitor.config.storefront_profile import StorefrontProfile

# Schemes that never leave the browser: nothing to allow or block.
_LOCAL_SCHEMES = frozenset({"data", "blob", "about", "javascript"})
_NETWORK_SCHEMES = frozenset({"http", "https", "ws", "wss"})
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_HINT = "write a host name such as cdn.example.com, or *.example.com for its subdomains"


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
WEB_PORTS = (80, 443)  # what a host named without a port may use: http and https
_IPV4_SPELLING = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)


def normalize_host(raw: str) -> str:
    """One ``allowed_hosts`` entry in the form browsers put in URLs (lower case, IDNA,
    IPv6 in brackets, ``:port`` when one is named); ``ValueError`` says what is wrong and
    what would be valid."""
    entry = raw.strip()
    shown = _shown(raw)
    if "://" in entry or "/" in entry:
        host = _url_netloc(entry if "://" in entry else f"//{entry}")
        only = f"its host only, {host!r}" if host else "a host only, e.g. cdn.example.com"
        raise ValueError(f"{shown} is a URL or path, not a host: write {only}")
    name, port = _split_port(entry, shown)
    wildcard = name.startswith("*.")
    base = name[2:] if wildcard else name
    if "*" in base:
        if name == "*":
            raise ValueError("'*' would allow every host; list the hosts the shop uses instead")
        raise ValueError(f"{shown}: '*' may only start an entry, as in '*.example.com'")
    # an international spelling may turn into digits ("²" is "2"): judge the IDNA form
    address = _ip_address(base) or _ip_address(_idna(base.rstrip("."), shown))
    if address is not None:
        if wildcard:
            raise ValueError(f"{shown}: an IP address has no subdomains; write {base!r}")
        host = f"[{address}]" if address.version == 6 else str(address)
    else:
        host = _idna(base.rstrip("."), shown)
        labels = host.split(".")
        if not all(_LABEL.match(label) for label in labels):
            raise ValueError(f"{shown} is not a host name: {_HINT}")
        if wildcard:
            _refuse_public_suffix(host, shown)
        host = f"*.{host}" if wildcard else host
    return f"{host}:{port}" if port is not None else host


def _split_port(entry: str, shown: str) -> tuple[str, int | None]:
    """``host[:port]`` (``[v6]:port`` for IPv6) split; a bare IPv6 address has no port."""
    if entry.startswith("[") and "]" in entry:
        host, _, rest = entry.partition("]")
        host += "]"
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise ValueError(f"{shown} is not a host name: {_HINT}")
        return host, _port(rest[1:], shown)
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if not host:
            raise ValueError(f"{shown} is a port without a host: write e.g. 'cdn.example.com:8443'")
        return host, _port(port, shown)
    return entry, None  # a host, or an IPv6 address without brackets


def _port(text: str, shown: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{shown}: the port must be a number from 1 to 65535")
    return int(text)


def _refuse_public_suffix(host: str, shown: str) -> None:
    """``*.co.uk`` would allow every shop under co.uk: a public suffix is no shop's own."""
    if "." not in host:
        raise ValueError(
            f"{shown} would allow a whole top-level domain; name the shop's own domain, "
            "e.g. '*.example.com'"
        )
    if _public_suffixes().is_public(_unicode(host)):
        raise ValueError(
            f"{shown} would allow every site under {host}, a public suffix (on the Public "
            f"Suffix List, like co.uk or github.io); name the shop's own domain, e.g. "
            f"'*.example.{host}'"
        )


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    """The Public Suffix List, as the package ships it (read once, and only for a
    wildcard entry). Its entries are kept as written, in Unicode: encoding all 10,000 of
    them to IDNA took three times as long as reading the list (hosts are decoded instead)."""
    from publicsuffixlist import PublicSuffixList  # noqa: PLC0415 (costly, rarely needed)

    return PublicSuffixList(accept_encoded_idn=False)


def _unicode(host: str) -> str:
    """``host`` (IDNA-encoded, as normalize_host keeps it) in the Unicode the list uses."""
    try:
        return host.encode("ascii").decode("idna")
    except UnicodeError:
        return host


def _shown(raw: str) -> str:
    """An entry quoted for an error message, cut short: a message stays one line."""
    return repr(raw) if len(raw) <= 80 else repr(raw[:77] + "...")


def _url_netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""


def _ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _IPV4_SPELLING.match(text):  # 127.1, 2130706433, 0x7f.1: what browsers make of them
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text.rstrip(".")))
        except OSError:
            return None
    return None


def _idna(name: str, shown: str) -> str:
    """Browsers send international names as punycode; compare in that form."""
    try:
        return name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"{shown} is not a host name: {_HINT}") from None


def url_origin(url: str) -> tuple[str, int] | None:
    """(host, port) of an absolute network URL as browsers write them; None for anything
    else."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _NETWORK_SCHEMES or not host:
        return None
    address = _ip_address(host)
    if address is not None:
        name = f"[{address}]" if address.version == 6 else str(address)
    else:
        try:
            name = _idna(host.rstrip("."), host)
        except ValueError:
            name = host.lower()
    return name, port if port is not None else _DEFAULT_PORTS[scheme]


def _written(host: str, port: int) -> str:
    return host if port in WEB_PORTS else f"{host}:{port}"


@dataclass(frozen=True)
class HostAllowlist:
    """The hosts and ports a storefront's browser may reach; ``storefront`` names it in
    messages."""

    storefront: str
    origins: frozenset[tuple[str, int]]  # exact (host, port)
    suffixes: tuple[tuple[str, int], ...] = ()  # from "*.example.com": (".example.com", 443)

    @classmethod
    def for_profile(cls, storefront: str, profile: StorefrontProfile) -> HostAllowlist:
        """Every host and port an absolute URL of the profile names, plus its
        ``allowed_hosts``."""
        named: set[tuple[str, int]] = set()
        for url in _urls_in(profile.model_dump()):
            origin = url_origin(url)
            if origin is not None:
                host, port = origin
                named |= {(host, p) for p in WEB_PORTS} if port in WEB_PORTS else {origin}
        listed = cls.from_entries(storefront, profile.allowed_hosts)
        # hosts taken from URLs are in the browser's form already, whatever they look like
        return replace(listed, origins=listed.origins | named)

    @classmethod
    def from_entries(cls, storefront: str, entries: Iterable[str]) -> HostAllowlist:
        exact: set[tuple[str, int]] = set()
        suffixes: list[tuple[str, int]] = []
        for entry in entries:
            host, port = _split_port(normalize_host(entry), entry)
            ports = WEB_PORTS if port is None else (port,)
            if host.startswith("*."):
                suffixes += [(host[1:], p) for p in ports]
            else:
                exact |= {(host, p) for p in ports}
        return cls(storefront, frozenset(exact), tuple(dict.fromkeys(suffixes)))

    @property
    def setting(self) -> str:
        """Where a person adds a host: the config path of the list."""
        return f"storefronts.{self.storefront}.allowed_hosts"

    def allows_origin(self, host: str, port: int) -> bool:
        return (host, port) in self.origins or any(
            host.endswith(suffix) and port == allowed for suffix, allowed in self.suffixes
        )

    def allows(self, url: str) -> bool:
        """Whether the browser (or a fetch on its behalf) may request ``url``; URLs that
        never leave the browser (data:, blob:, about:) are always allowed."""
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme in _LOCAL_SCHEMES:
            return True
        origin = url_origin(url)
        return origin is not None and self.allows_origin(*origin)

    def refusal(self, url: str) -> str:
        """The plain-English failure for a page sent to ``url``."""
        return f"the shop sent the browser to {url[:300]}: {self.outside(url)}"

    async def check_request(self, request: httpx.Request) -> None:
        """An httpx request hook (``event_hooks={"request": [allowlist.check_request]}``):
        a request, or a redirect hop, to a host not allowed is never sent."""
        url = str(request.url)
        if not self.allows(url):
            raise HostNotAllowedError(f"its {self.outside(url)}", request=request)

    def outside(self, url: str) -> str:
        return f"host {blocked_host(url)} is not in {self.setting}: add it there if it is yours"

    def proxy_bypass(self) -> str:
        """The allowed hosts and ports as a Chromium proxy bypass list. ``<-loopback>``
        first: without it Chromium lets localhost and 127.0.0.1 through whatever the list
        says."""
        rules = ["<-loopback>"]
        rules += [f"{host}:{port}" for host, port in sorted(self.origins)]
        rules += [f"*{suffix}:{port}" for suffix, port in self.suffixes]
        # Playwright's own API requests (the order API, the health check) match the bypass
        # list by host name alone, suffix-wise, so "127.0.0.1:8080" never matches for them:
        # ".127.0.0.1" does, while Chromium reads it as "*.127.0.0.1", which the host itself
        # never is. ShopApi checks their ports itself.
        rules += sorted({f".{host}" for host, _ in self.origins if not host.startswith("[")})
        return ",".join(rules)


def blocked_host(url: str) -> str:
    """How to write ``url``'s host in ``allowed_hosts``: with its port unless it is 80/443."""
    origin = url_origin(url)
    return _written(*origin) if origin else url[:300]


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
