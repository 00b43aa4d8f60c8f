"""A storefront profile: every URL, selector, wording and checkout step of one shop.

Journeys never hard-code markup; they talk to the shop through a page-object built from
one of these, so a new storefront is a config change, not a code change.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from checkout_monitor.browser.allowlist import normalize_host
from checkout_monitor.browser.frames import check_selector, within
from checkout_monitor.config.fields import (
    SECONDS,
    Headers,
    HttpUrl,
    Regex,
    StrictModel,
    UrlOrPath,
    between,
)
from checkout_monitor.failure_kinds import FailureClass, FailureKind

PLACEHOLDER = re.compile(r"\{([a-z_]+)\.([a-z0-9_]+)\}")
# A CSS or Playwright selector; "iframe#x >>> input" reaches into an iframe (see frames.py).
Selector = Annotated[str, AfterValidator(check_selector)]


class Customer(StrictModel):
    """The synthetic shopper typed into checkout forms, as {customer.FIELD}."""

    email: str = "synthetic-monitor@example.com"
    full_name: str = "Synthetic Monitor"
    phone: str = "+44 20 7946 0000"
    address1: str = "1 Test Street"
    address2: str = ""
    city: str = "London"
    postcode: str = "SW1A 1AA"
    country: str = "GB"

    def tagged_email(self, tag: str) -> str:
        """A plus-address of the shopper's email (``name+tag@host``): orders placed with it
        are this attempt's alone, even while other journeys buy with the plain address."""
        local, at, host = self.email.partition("@")
        return f"{local}+{tag}{at}{host}" if at else self.email


class Card(StrictModel):
    """The sandbox test card typed into payment forms, as {card.FIELD}."""

    number: str = "4242424242424242"
    expiry: str = "12/34"
    cvc: str = "123"
    name: str = "Synthetic Monitor"


PLACEHOLDER_FIELDS = {"customer": tuple(Customer.model_fields), "card": tuple(Card.model_fields)}


class ProductPage(StrictModel):
    path: UrlOrPath = Field(description="path of the monitored product page, e.g. /products/mug")
    title: Selector = Field(description="selector that must be visible on a product page")
    add_to_cart: Selector = Field(description="selector of the add-to-cart button")
    quantity: Selector | None = Field(None, description="the quantity input or select")
    price: Selector | None = Field(None, description="selector of the product's price")
    added: Selector = Field(description="selector that appears once the product is in the cart")
    sold_out: Selector | None = Field(None, description="shown when the product is sold out")


class CartPage(StrictModel):
    path: UrlOrPath
    line: Selector = Field(description="selector of one cart line")
    checkout: Selector = Field(description="the button or link that starts checkout")


class CheckoutPage(StrictModel):
    """One page of the checkout, completed as one step of the journey. It may be the
    payment provider's own page (a hosted payment page), and any of its selectors may
    reach into an iframe (``>>>``), or all of them at once (``frame``)."""

    step: str = Field(min_length=1, max_length=60)
    present: Selector = Field(description="selector in the DOM only while this page is showing")
    optional: bool = False
    frame: Selector | None = Field(None, description="the iframe every selector here is in")
    reveal: Selector | None = None
    fill: dict[Selector, str] = Field(default_factory=dict)
    select: dict[Selector, str] = Field(default_factory=dict)
    check: list[Selector] = Field(default_factory=list)
    submit: Selector

    def target(self, selector: str) -> str:
        """``selector`` of this page as the browser must look for it (inside ``frame``)."""
        return within(self.frame, selector)

    @field_validator("fill", "select")
    @classmethod
    def _known_placeholders(cls, values: dict[str, str]) -> dict[str, str]:
        for value in values.values():
            for group, field in PLACEHOLDER.findall(value):
                if field not in PLACEHOLDER_FIELDS.get(group, ()):
                    valid = ", ".join(
                        f"{{{g}.{f}}}" for g, fields in PLACEHOLDER_FIELDS.items() for f in fields
                    )
                    raise ValueError(f"unknown placeholder {{{group}.{field}}}; valid: {valid}")
        return values


class Confirmation(StrictModel):
    present: Selector
    order_number: Selector
    order_number_pattern: Regex = r"(.+)"


class Checkout(StrictModel):
    token: Selector | None = Field(None, description="selector of the checkout token field")
    replay_check: bool = Field(
        True, description="after an order, check that the shop refuses the stale token"
    )
    pages: list[CheckoutPage] = Field(min_length=1)
    confirmation: Confirmation

    @field_validator("pages")
    @classmethod
    def _unique_steps(cls, pages: list[CheckoutPage]) -> list[CheckoutPage]:
        seen: set[str] = set()
        for page in pages:
            if page.step in seen:
                raise ValueError(f"two checkout pages share the step name {page.step!r}")
            seen.add(page.step)
        return pages


class FailureSignal(StrictModel):
    """What the shop shows when something specific breaks, mapped to a failure kind."""

    kind: FailureKind
    selector: Selector
    text: Regex | None = None

    @field_validator("kind")
    @classmethod
    def _site_kind(cls, kind: FailureKind) -> FailureKind:
        if kind.failure_class is not FailureClass.SITE:
            valid = ", ".join(k.value for k in FailureKind if k.failure_class is FailureClass.SITE)
            raise ValueError(f"{kind.value!r} is the monitor's own failure; use one of: {valid}")
        return kind


class HttpCall(StrictModel):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: UrlOrPath = Field(description="URL or path; {order_number} is replaced")
    headers: Headers = Field(default_factory=dict)


class OrderList(HttpCall):
    """Lists recent orders as JSON, so a declined payment can be shown to create none."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    items: str = Field("orders", description="key of the list of orders in the JSON answer")
    email_field: str = "email"


class OrderApi(StrictModel):
    cancel: HttpCall
    list: OrderList | None = None


class ThreeDSecure(StrictModel):
    """A test card whose payment needs a 3-D Secure challenge, and where the challenge's
    buttons are (usually in an iframe inside an iframe: ``frame``)."""

    card: str = Field(description="a sandbox card the provider always challenges")
    frame: Selector | None = Field(None, description="the iframe(s) the challenge shows in")
    complete: Selector = Field(description="the button that passes the challenge")
    fail: Selector = Field(description="the button that fails the challenge")

    def target(self, selector: str) -> str:
        return within(self.frame, selector)


class PaymentProvider(StrictModel):
    """The payment provider behind the checkout, for the payment-sandbox journey."""

    health_url: HttpUrl | None = None
    max_health_latency: Annotated[float, SECONDS, between(0.05, 60)] = 2.0
    declining_cards: dict[str, str] = Field(
        default_factory=dict, description="name -> a sandbox card the provider must decline"
    )
    three_d_secure: ThreeDSecure | None = None


class Overlay(StrictModel):
    """Something a theme lays over the page (a cookie banner, a newsletter pop-up, a chat
    invitation): dismissed whenever it shows, at any moment of any journey."""

    name: str = Field(min_length=1, max_length=60)
    present: Selector = Field(description="selector of the overlay while it shows")
    dismiss: Selector = Field(description="what a shopper clicks to close it")


class ImageCheck(StrictModel):
    """Which product pages the product-images journey checks, and what counts as broken."""

    pages: list[UrlOrPath] = Field(default_factory=list, description="default: [product.path]")
    listing: UrlOrPath | None = Field(None, description="a page that links to product pages")
    product_links: Selector = Field("a[href]", description="product links on the listing")
    max_pages: int = Field(10, ge=1, le=200)
    min_width: int = Field(100, ge=1, le=10000)
    min_height: int = Field(100, ge=1, le=10000)
    max_kib: int | None = Field(None, ge=1, description="warn about images larger than this")
    require_alt: bool = True
    baseline: str | None = Field(None, description="file written by `images baseline`")
    max_hash_distance: int = Field(10, ge=0, le=64)
    concurrency: int = Field(8, ge=1, le=64)
    max_download_mib: int = Field(
        16, ge=1, le=1024, description="an image larger than this is broken, never read in full"
    )


class DiscountCode(StrictModel):
    """A code that must work: exactly one of percent_off or amount_off."""

    code: str = Field(min_length=1)
    percent_off: float | None = Field(None, gt=0, le=100)
    amount_off: float | None = Field(None, gt=0)
    min_order: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_kind(self) -> DiscountCode:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError(f"{self.code}: set exactly one of percent_off or amount_off")
        return self


class Discounts(StrictModel):
    """Where codes are applied (the cart) and what the shop shows for each outcome."""

    reveal: Selector | None = Field(
        None, description="clicked first when it shows: the form hides behind it"
    )
    code_input: Selector
    apply: Selector
    applied: Selector = Field(description="the message shown when a code is accepted")
    rejected: Selector = Field(description="the message shown when a code is refused")
    subtotal: Selector
    total: Selector
    discount_line: Selector | None = Field(None, description="the cart line showing the discount")
    currency_decimals: int = Field(2, ge=0, le=3)
    valid: list[DiscountCode] = Field(default_factory=list)
    must_reject: list[str] = Field(default_factory=list)


class StorefrontProfile(StrictModel):
    """One shop: its URLs, the selectors of its pages, the test shopper and card."""

    base_url: HttpUrl
    navigation_wait: Literal["load", "domcontentloaded", "networkidle"] = "load"
    product: ProductPage
    cart: CartPage
    checkout: Checkout
    failure_signals: list[FailureSignal] = Field(default_factory=list)
    overlays: list[Overlay] = Field(default_factory=list)
    order_api: OrderApi | None = None
    payment: PaymentProvider = Field(default_factory=PaymentProvider)
    images: ImageCheck = Field(default_factory=ImageCheck)
    discounts: Discounts | None = None
    allow_real_cards: bool = False
    # Hosts the browser may reach besides those the URLs above name (CDNs, payment pages)
    allowed_hosts: list[Annotated[str, AfterValidator(normalize_host)]] = Field(
        default_factory=list
    )
    customer: Customer = Field(default_factory=Customer)
    card: Card = Field(default_factory=Card)

    def render(
        self, template: str, card_number: str | None = None, email: str | None = None
    ) -> str:
        """Fill {customer.x} and {card.x} placeholders with the profile's shopper data
        (``card_number`` replaces the card's number, to try a declining card; ``email`` the
        shopper's address)."""
        card = (
            self.card
            if card_number is None
            else self.card.model_copy(update={"number": card_number})
        )
        customer = (
            self.customer if email is None else self.customer.model_copy(update={"email": email})
        )
        values = {"customer": customer, "card": card}
        return PLACEHOLDER.sub(lambda m: str(getattr(values[m[1]], m[2])), template)

    @property
    def card_numbers(self) -> tuple[str, ...]:
        """Every card number the journeys may type: checked, and kept out of any output."""
        three_ds = self.payment.three_d_secure
        return (
            self.card.number,
            *self.payment.declining_cards.values(),
            *((three_ds.card,) if three_ds else ()),
        )

    @property
    def takes_card(self) -> bool:
        """Whether any checkout page types a card number."""
        return any(
            "{card.number}" in value
            for page in self.checkout.pages
            for value in (*page.fill.values(), *page.select.values())
        )

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url + "/" + path_or_url.lstrip("/")
