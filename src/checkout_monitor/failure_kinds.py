"""The fixed set of failure kinds: *why* a step failed, bounded so it can be a metric label.

Every kind belongs to a class: ``site`` (the storefront is broken, page its owner) or
``monitor`` (our own problem: never reported as a broken shop).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FailureClass(StrEnum):
    SITE = "site"
    MONITOR = "monitor"


class FailureKind(StrEnum):
    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"
    CONNECTION_ERROR = "connection_error"
    ELEMENT_MISSING = "element_missing"
    ELEMENT_HIDDEN = "element_hidden"
    OVERLAY_BLOCKING = "overlay_blocking"
    ASSERTION = "assertion"
    IMAGE_BROKEN = "image_broken"
    CART_ADD_FAILED = "cart_add_failed"
    DISCOUNT_REJECTED = "discount_rejected"
    DISCOUNT_WRONG_AMOUNT = "discount_wrong_amount"
    FORM_REJECTED = "form_rejected"
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_PROVIDER_DOWN = "payment_provider_down"
    PAYMENT_FIELDS_UNAVAILABLE = "payment_fields_unavailable"
    PAYMENT_REDIRECT_FAILED = "payment_redirect_failed"
    THREE_D_SECURE_FAILED = "three_d_secure_failed"
    CHECKOUT_TOKEN_INVALID = "checkout_token_invalid"
    OUT_OF_STOCK = "out_of_stock"
    HOST_NOT_ALLOWED = "host_not_allowed"
    BROWSER_CRASH = "browser_crash"
    JOURNEY_ERROR = "journey_error"

    @property
    def failure_class(self) -> FailureClass:
        return KIND_INFO[self].failure_class

    @property
    def advice(self) -> str:
        return KIND_INFO[self].advice


@dataclass(frozen=True)
class KindInfo:
    failure_class: FailureClass
    advice: str


_SITE = FailureClass.SITE
_MONITOR = FailureClass.MONITOR

KIND_INFO: dict[FailureKind, KindInfo] = {
    FailureKind.TIMEOUT: KindInfo(
        _SITE,
        "The shop is too slow or stuck. Open the page yourself; check hosting and recent deploys.",
    ),
    FailureKind.HTTP_ERROR: KindInfo(
        _SITE, "The shop answered with an HTTP error. Check the shop's server logs for that URL."
    ),
    FailureKind.CONNECTION_ERROR: KindInfo(
        _SITE, "The shop could not be reached at all. Check that it is up, its DNS and its TLS."
    ),
    FailureKind.ELEMENT_MISSING: KindInfo(
        _SITE,
        "A page did not show what the journey expected. The theme may have changed: compare "
        "the page with the storefront profile's selectors.",
    ),
    FailureKind.ELEMENT_HIDDEN: KindInfo(
        _SITE,
        "The element is on the page but hidden from shoppers, so it could not be used. This "
        "is the theme or the storefront profile, not the hosting: if the shop now shows it "
        "only after a click, add that button as the profile's reveal; else compare the page "
        "with the profile's selectors.",
    ),
    FailureKind.OVERLAY_BLOCKING: KindInfo(
        _SITE,
        "Something covers the page and swallowed the click (a cookie banner, a pop-up, a "
        "chat window). If shoppers can close it, declare it under the storefront profile's "
        "overlays; if it is declared and still stays, its close button no longer works: "
        "check the theme or the app that shows it.",
    ),
    FailureKind.ASSERTION: KindInfo(
        _SITE, "The shop showed something other than what was expected. Look at the page."
    ),
    FailureKind.IMAGE_BROKEN: KindInfo(
        _SITE, "A product image is missing or broken. Re-upload it or check the image CDN."
    ),
    FailureKind.CART_ADD_FAILED: KindInfo(
        _SITE,
        "Shoppers cannot add this product to the cart. Try it in a browser; check the theme's "
        "scripts and the last theme or app change.",
    ),
    FailureKind.DISCOUNT_REJECTED: KindInfo(
        _SITE, "A discount code that should work was refused. Check the code's settings and dates."
    ),
    FailureKind.DISCOUNT_WRONG_AMOUNT: KindInfo(
        _SITE, "A discount code took off the wrong amount. Check the code's value and conditions."
    ),
    FailureKind.FORM_REJECTED: KindInfo(
        _SITE,
        "The shop refused the checkout form. Check its validation rules and the customer "
        "data in the storefront profile.",
    ),
    FailureKind.PAYMENT_DECLINED: KindInfo(
        _SITE,
        "The payment was declined for the sandbox test card. Check the payment provider's "
        "dashboard and that the shop is in test mode where it should be.",
    ),
    FailureKind.PAYMENT_PROVIDER_DOWN: KindInfo(
        _SITE,
        "The payment provider is not answering. Check the provider's status page; tell "
        "customers if checkout is affected.",
    ),
    FailureKind.PAYMENT_FIELDS_UNAVAILABLE: KindInfo(
        _SITE,
        "The payment provider's card fields did not load, so nobody can pay by card. Check "
        "the provider's status page, the shop's Content-Security-Policy and the last theme "
        "change; the failed script or frame is in the evidence.",
    ),
    FailureKind.PAYMENT_REDIRECT_FAILED: KindInfo(
        _SITE,
        "The shopper paid on the payment provider's page but was never sent back to the "
        "shop. Check the return URL in the provider's settings and the provider's status "
        "page; look in the provider's dashboard for payments without an order.",
    ),
    FailureKind.THREE_D_SECURE_FAILED: KindInfo(
        _SITE,
        "The 3-D Secure check (the bank's challenge) did not appear or did not finish, so "
        "cards that need it cannot pay. Check the payment provider's status page and its "
        "3-D Secure settings.",
    ),
    FailureKind.CHECKOUT_TOKEN_INVALID: KindInfo(
        _SITE,
        "The shop rejected its own checkout session. Check session storage, cookies and "
        "caching in front of the checkout.",
    ),
    FailureKind.OUT_OF_STOCK: KindInfo(
        _SITE, "The monitored product is sold out. Restock it or monitor another product."
    ),
    FailureKind.HOST_NOT_ALLOWED: KindInfo(
        _SITE,
        "The shop sent the browser to a host the config does not name, and it was blocked. "
        "If the host is the shop's own (a new domain or payment page), add it to the "
        "storefront's allowed_hosts; if nobody knows it, treat it as a possible hijack of "
        "the shop and look at it now.",
    ),
    FailureKind.BROWSER_CRASH: KindInfo(
        _MONITOR,
        "The monitor's browser crashed, or the monitor lost its connection to a remote "
        "browser. This is not the shop's fault; rerun it (the agent starts or reconnects "
        "the browser by itself).",
    ),
    FailureKind.JOURNEY_ERROR: KindInfo(
        _MONITOR,
        "The journey script itself failed. This is not the shop's fault; fix the journey "
        "file in monitors/.",
    ),
}
