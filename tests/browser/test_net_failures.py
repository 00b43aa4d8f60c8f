"""Chromium's network errors, as Playwright raises them, in the words a step reports."""

from __future__ import annotations

import pytest
from playwright.async_api import Error as PlaywrightError

from checkout_monitor.errors import BrowserUnavailableError
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.step_failures import classify, net_failure

CONNECTION, HTTP = FailureKind.CONNECTION_ERROR, FailureKind.HTTP_ERROR

CASES = [
    (
        "Page.goto: net::ERR_CONNECTION_REFUSED at http://127.0.0.1:8080/cart",
        CONNECTION,
        "could not reach the shop: nothing is listening at 127.0.0.1:8080 (connection refused): "
        "the shop or its load balancer is down (net::ERR_CONNECTION_REFUSED)",
    ),
    (
        "Page.goto: net::ERR_NAME_NOT_RESOLVED at https://shop.invalid/",
        CONNECTION,
        "could not reach the shop: the host name shop.invalid does not resolve in DNS "
        "(net::ERR_NAME_NOT_RESOLVED)",
    ),
    (
        "Page.goto: net::ERR_TOO_MANY_REDIRECTS at https://shop.example.com/p\nCall log: …",
        HTTP,
        "https://shop.example.com/p redirects endlessly "
        "(net::ERR_TOO_MANY_REDIRECTS: the browser gives up after 20 redirects)",
    ),
    (
        "Page.goto: net::ERR_CERT_AUTHORITY_INVALID at https://shop.example.com/cart",
        CONNECTION,
        "could not reach the shop: the TLS certificate of shop.example.com is not trusted "
        "(net::ERR_CERT_AUTHORITY_INVALID)",
    ),
    (
        "Page.goto: net::ERR_SSL_PROTOCOL_ERROR at https://shop.example.com/",
        CONNECTION,
        "could not reach the shop: the TLS handshake with shop.example.com failed "
        "(net::ERR_SSL_PROTOCOL_ERROR)",
    ),
    (
        "Page.click: net::ERR_EMPTY_RESPONSE",  # no URL in the message
        CONNECTION,
        "could not reach the shop: its host closed the connection without an answer "
        "(net::ERR_EMPTY_RESPONSE)",
    ),
    (
        "Page.goto: net::ERR_HTTP2_PING_FAILED at https://shop.example.com/",
        CONNECTION,
        "could not reach the shop: the browser could not load the page "
        "(net::ERR_HTTP2_PING_FAILED)",
    ),
]


@pytest.mark.parametrize(("raised", "kind", "message"), CASES, ids=[c[0].split()[1] for c in CASES])
def test_net_errors_in_words(raised: str, kind: FailureKind, message: str) -> None:
    assert classify(PlaywrightError(raised)) == (kind, message)


def test_a_step_names_what_it_was_opening() -> None:
    refused = net_failure(PlaywrightError("net::ERR_CONNECTION_REFUSED at http://127.0.0.1:1/"))
    assert refused is not None
    assert refused.message("the cart (/cart)") == (
        "could not reach the shop to open the cart (/cart): nothing is listening at "
        "127.0.0.1:1 (connection refused): the shop or its load balancer is down "
        "(net::ERR_CONNECTION_REFUSED)"
    )
    looping = net_failure(PlaywrightError("net::ERR_TOO_MANY_REDIRECTS at http://s/p"))
    assert looping is not None
    assert looping.message("the product page (/p)", ": /p -> /q -> /p -> ...") == (
        "the product page (/p) redirects endlessly: /p -> /q -> /p -> ... "
        "(net::ERR_TOO_MANY_REDIRECTS: the browser gives up after 20 redirects)"
    )


def test_other_browser_errors_are_not_network_errors() -> None:
    assert net_failure(PlaywrightError("Target page, context or browser has been closed")) is None


def test_a_browser_that_cannot_start_again_is_the_monitors_failure() -> None:
    error = BrowserUnavailableError(
        "could not start the browser (/usr/bin/chromium): spawn ENOENT\nInstall Debian's ..."
    )
    kind, message = classify(error)
    assert kind is FailureKind.BROWSER_CRASH
    assert kind.failure_class.value == "monitor"
    assert message == (
        "the monitor's browser is gone: could not start the browser (/usr/bin/chromium): "
        "spawn ENOENT"
    )
