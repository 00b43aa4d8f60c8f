"""The shop's HTTP side, without the page: order API, payment provider health, and replaying
a checkout form. Calls go through the journey's own browser context (its cookies and its
synthetic marking), and each request and redirect hop only to the storefront's allowed hosts
and ports: Playwright's API requests match the browser's proxy bypass by host name alone,
so the port is checked here."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from playwright.async_api import APIRequestContext, APIResponse
from playwright.async_api import Error as PlaywrightError

from checkout_monitor.browser.allowlist import HostAllowlist
from checkout_monitor.config.storefront_profile import StorefrontProfile
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.shop.step_budget import wait_ms
from checkout_monitor.step_failures import CheckFailed
from checkout_monitor.text.durations import format_duration
from checkout_monitor.text.quoting import first_line

MAX_REDIRECTS = 5


class ShopApi:
    def __init__(
        self,
        request: APIRequestContext,
        profile: StorefrontProfile,
        *,
        time_left: Callable[[], float],
        allowlist: HostAllowlist | None = None,
    ) -> None:
        self._request = request
        self.profile = profile
        self._time_left = time_left
        self._allowlist = allowlist  # None: not fenced (no browser context is fenced either)

    @property
    def can_cancel_orders(self) -> bool:
        return self.profile.order_api is not None

    def _wait_ms(self) -> float:
        return wait_ms(self._time_left)

    async def _fetch(
        self, url: str, what: str, *, follow: bool = True, **options: Any
    ) -> APIResponse:
        """``fetch``, hop by hop, each hop to an allowed host and port only."""
        method = options.pop("method", "GET")
        for _ in range(MAX_REDIRECTS + 1):
            if self._allowlist is not None and not self._allowlist.allows(url):
                raise CheckFailed(
                    FailureKind.HOST_NOT_ALLOWED,
                    f"{what} would go to {url[:300]}, but its {self._allowlist.outside(url)}",
                )
            response = await self._request.fetch(
                url, method=method, max_redirects=0, timeout=self._wait_ms(), **options
            )
            location = response.headers.get("location")
            if not follow or not 300 <= response.status < 400 or not location:
                return response
            url = urljoin(url, location)
            if response.status in (301, 302, 303) and method != "HEAD":
                method, options = "GET", {k: v for k, v in options.items() if k == "headers"}
        raise CheckFailed(
            FailureKind.HTTP_ERROR, f"{what} redirects more than {MAX_REDIRECTS} times"
        )

    async def count_orders(self, email: str | None = None) -> int | None:
        """How many orders the shop's API lists for ``email`` (default: the synthetic
        shopper's); None without an order API."""
        api = self.profile.order_api
        if api is None or api.list is None:
            return None
        listing = api.list
        response = await self._fetch(
            self.profile.url(listing.url),
            "the order API",
            method=listing.method,
            headers=listing.headers,
        )
        if response.status >= 400:
            raise CheckFailed(
                FailureKind.HTTP_ERROR,
                f"the order API answered HTTP {response.status} when listing orders",
            )
        try:
            document = await response.json()
        except ValueError:
            raise CheckFailed(
                FailureKind.HTTP_ERROR, "the order API did not answer JSON when listing orders"
            ) from None
        items = document.get(listing.items) if isinstance(document, dict) else document
        if not isinstance(items, list):
            raise CheckFailed(
                FailureKind.ASSERTION,
                f"the order API's answer has no list of orders under {listing.items!r}",
            )
        email = email or self.profile.customer.email
        return sum(1 for o in items if isinstance(o, dict) and o.get(listing.email_field) == email)

    async def check_provider_health(self) -> str:
        """The payment provider's health endpoint answers 200, and quickly enough."""
        payment = self.profile.payment
        if payment.health_url is None:
            raise CheckFailed(FailureKind.JOURNEY_ERROR, "the profile has no payment.health_url")
        start = time.perf_counter()
        try:
            response = await self._fetch(
                payment.health_url, "the payment provider's health endpoint"
            )
        except PlaywrightError as exc:
            raise CheckFailed(
                FailureKind.PAYMENT_PROVIDER_DOWN,
                f"the payment provider's health endpoint did not answer: {first_line(exc.message)}",
            ) from None
        took = time.perf_counter() - start
        if response.status != 200:
            raise CheckFailed(
                FailureKind.PAYMENT_PROVIDER_DOWN,
                f"the payment provider's health endpoint answered HTTP {response.status}",
            )
        if took > payment.max_health_latency:
            raise CheckFailed(
                FailureKind.PAYMENT_PROVIDER_DOWN,
                f"the payment provider's health endpoint took {took * 1000:.0f} ms, over the "
                f"{format_duration(payment.max_health_latency)} limit",
            )
        return f"HTTP 200 in {took * 1000:.0f} ms"

    async def replay_stale_token(self, form: dict[str, Any] | None) -> str:
        """Post the checkout form again with its now stale token: the shop must refuse it."""
        if form is None:
            raise CheckFailed(
                FailureKind.JOURNEY_ERROR, "no checkout form with a token was recorded to replay"
            )
        response = await self._fetch(
            form["action"],
            "the replayed checkout form",
            follow=False,
            method=form["method"].upper() or "POST",
            form=dict(form["fields"]),
        )
        body = await response.text()
        token_signals = [
            s for s in self.profile.failure_signals if s.kind is FailureKind.CHECKOUT_TOKEN_INVALID
        ]
        said = any(s.text and re.search(s.text, body, re.IGNORECASE) for s in token_signals)
        if response.status >= 400 or said:
            return f"the stale token was refused (HTTP {response.status})"
        raise CheckFailed(
            FailureKind.ASSERTION,
            f"the shop accepted a checkout form replayed with a stale token (HTTP "
            f"{response.status} from {urlsplit(form['action']).path}): its checkout token "
            "protection is off",
        )

    async def cancel_order(self, order_number: str) -> int:
        """Cancel the synthetic order through the shop's API, so it is never fulfilled."""
        api = self.profile.order_api
        if api is None:
            raise CheckFailed(FailureKind.ASSERTION, "the storefront profile has no order API")
        call = api.cancel
        # the number as the shop showed it may hold '#', '/' or spaces: never a path of its own
        url = self.profile.url(call.url.replace("{order_number}", quote(order_number, safe="")))
        response = await self._fetch(url, "the order API", method=call.method, headers=call.headers)
        if response.status >= 400:
            raise CheckFailed(
                FailureKind.HTTP_ERROR,
                f"could not cancel test order {order_number}: the order API answered "
                f"HTTP {response.status} to {call.method} {urlsplit(url).path}; cancel it by "
                "hand, and check order_number_pattern if the number looks wrong",
            )
        return response.status
