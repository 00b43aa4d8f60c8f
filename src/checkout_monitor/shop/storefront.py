"""The page-object journeys use to talk to a shop, driven entirely by its storefront profile.

Each method is one shopper action. It raises ``CheckFailed`` with the most specific failure
kind it can tell, and a message saying what the shop showed.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, Response
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from checkout_monitor.browser.allowlist import HostAllowlist
from checkout_monitor.browser.frames import Target, parse_target
from checkout_monitor.browser.navigation import goto_with_retries
from checkout_monitor.config.storefront_profile import (
    CheckoutPage,
    Discounts,
    Overlay,
    StorefrontProfile,
    ThreeDSecure,
)
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.images.page_images import Baseline, judge_images, rules_from, seen_images
from checkout_monitor.shop.discount_rules import DiscountOutcome
from checkout_monitor.shop.element_actions import ElementActions
from checkout_monitor.shop.money import parse_money
from checkout_monitor.shop.order_api import ShopApi
from checkout_monitor.shop.step_budget import wait_ms
from checkout_monitor.step_failures import CheckFailed, net_failure
from checkout_monitor.text.quoting import quote

Challenge = Literal["complete", "fail"]

_READ_TOKEN = """els => els.map(e => {
  const form = e.form || e.closest('form');
  return {
    value: e.value || e.getAttribute('content') || '',
    form: form && {
      action: form.action, method: form.getAttribute('method') || 'post',
      fields: Array.from(new FormData(form).entries()).filter(([, v]) => typeof v === 'string'),
    },
  };
})"""


class Storefront:
    def __init__(
        self,
        page: Page,
        profile: StorefrontProfile,
        *,
        time_left: Callable[[], float],
        navigation_retries: int = 1,
        base_dir: Path | None = None,
        allowlist: HostAllowlist | None = None,
        storefront: str = "",
    ) -> None:
        self.page = page
        self.profile = profile
        # the hosts fetches outside the browser (images) may reach; None: not checked
        self.allowlist = allowlist
        self._base_dir = base_dir or Path.cwd()
        self._time_left = time_left
        self._navigation_retries = navigation_retries
        self._last_document: Response | None = None
        self._redirects: deque[str] = deque(maxlen=25)  # URLs the last load was redirected from
        self._showing: str | None = None  # the expected selector the last wait found
        self._token_form: dict[str, Any] | None = None  # the form the checkout token came in
        self._card_number: str | None = None  # a declining card to type instead of the profile's
        self._email: str | None = None  # a tagged address to type instead of the profile's
        self._challenge: Challenge | None = None  # how to answer a 3-D Secure challenge
        self._overlays_installed = False
        self._dismissing = asyncio.Lock()
        self.last_decline = ""
        self.page_errors: list[str] = []
        self.tally: Counter[str] = Counter()  # e.g. images_checked, for the metrics
        self.broken_images: list[str] = []  # URLs that failed the image checks, for evidence
        self.api = ShopApi(page.context.request, profile, time_left=time_left, allowlist=allowlist)
        page.on("response", self._remember_document)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.actions = ElementActions(
            page,
            self._wait_ms,
            profile.overlays,
            f"storefronts.{storefront}" if storefront else "the storefront profile",
        )
        self.actions.watch()

    @property
    def checkout_pages(self) -> list[CheckoutPage]:
        return self.profile.checkout.pages

    @property
    def token_form(self) -> dict[str, Any] | None:
        """The checkout form the token came in, as it was: what a replay posts again."""
        return self._token_form

    # --- shopper actions ---------------------------------------------------------------

    async def open_product(self) -> str:
        product = self.profile.product
        await self._open(product.path, "the product page")
        await self._expect(product.title, "the product page")
        return (await self._loc(product.title).first.inner_text()).strip()

    async def add_to_cart(self, quantity: int = 1) -> None:
        product = self.profile.product
        if product.sold_out and await self._visible(product.sold_out):
            shown = await self._loc(product.sold_out).first.inner_text()
            raise CheckFailed(FailureKind.OUT_OF_STOCK, f"the product page says {quote(shown)}")
        if quantity != 1:
            await self._set_quantity(quantity)
        errors_before = len(self.page_errors)
        await self.actions.click(
            product.add_to_cart, "the add-to-cart button", FailureKind.CART_ADD_FAILED
        )
        outcome = await self._first_of([product.added])
        if outcome is None:
            scripts = self.page_errors[errors_before:]
            why = f"; the page threw: {quote(scripts[0])}" if scripts else ""
            raise CheckFailed(
                FailureKind.CART_ADD_FAILED,
                f"clicked add to cart, but the shop never confirmed it{why}",
            )

    async def _set_quantity(self, quantity: int) -> None:
        selector = self.profile.product.quantity
        if selector is None:
            raise CheckFailed(
                FailureKind.JOURNEY_ERROR,
                f"cannot add {quantity} at once: the profile has no product.quantity selector",
            )
        field = self._loc(selector).first
        tag = await field.evaluate("e => e.tagName", timeout=self._wait_ms())
        if tag == "SELECT":
            await self.actions.choose(selector, str(quantity), "the quantity")
        else:
            await self.actions.fill(selector, str(quantity), "the quantity")

    async def product_price(self) -> int:
        """The open product page's price in minor units (needs product.price)."""
        selector = self.profile.product.price
        if selector is None:
            raise CheckFailed(
                FailureKind.JOURNEY_ERROR, "the profile has no product.price selector"
            )
        return await self._money(selector, "the product price")

    async def open_cart(self) -> int:
        cart = self.profile.cart
        await self._open(cart.path, "the cart")
        lines = self._loc(cart.line)
        if not await self._appears(lines.first):
            raise CheckFailed(
                FailureKind.CART_ADD_FAILED,
                f"the cart is empty after adding: {await self._shown()}",
            )
        return await lines.count()

    async def start_checkout(self) -> bool:
        """Go from the cart to the first checkout page; return whether a token was found."""
        checkout = self.profile.checkout
        await self._click(self.profile.cart.checkout, "the cart's checkout button")
        await self._settle(self._first_checkout_presents(), "the first checkout page")
        if checkout.token is None:
            return False
        found = await self._loc(checkout.token).evaluate_all(_READ_TOKEN)
        token = next((t for t in found if t["value"]), None)
        if token is None:
            raise CheckFailed(
                FailureKind.CHECKOUT_TOKEN_INVALID,
                f"the checkout page carries no checkout token ({checkout.token})",
            )
        self._token_form = token["form"]
        return True

    async def complete_checkout_page(self, index: int, *, submit: bool = True) -> str:
        """Fill and submit checkout page ``index``; return a note, e.g. that it was skipped.

        ``submit=False`` fills the page and stops: the dry run of a final page.
        """
        page_spec = self.checkout_pages[index]
        present = page_spec.target(page_spec.present)
        following = self._next_present(index)
        if page_spec.optional:
            found = await self._first_of([present, following])
            if found == following:
                return "the shop skipped this page"
        if self._showing != present:  # not already seen by the step before
            await self._settle([present], f"the {page_spec.step!r} page")
        here = f"the {page_spec.step!r} page's"
        if page_spec.reveal:
            await self._reveal(page_spec.target(page_spec.reveal), f"{here} reveal button")
        for selector, template in page_spec.fill.items():
            await self.actions.fill(
                page_spec.target(selector),
                self._render(template),
                f"{here} field",
                _missing_kind(template),
            )
        for selector, template in page_spec.select.items():
            await self.actions.choose(
                page_spec.target(selector),
                self._render(template),
                f"{here} choice",
                _missing_kind(template),
            )
        for selector in page_spec.check:
            await self.actions.tick(page_spec.target(selector), f"{here} tick box")
        if not submit:
            return "dry run: filled in, not submitted (place_order: false)"
        await self._click(
            page_spec.target(page_spec.submit), f"the {page_spec.step!r} submit button"
        )
        return await self._after_submit(index, following)

    async def _after_submit(self, index: int, following: str) -> str:
        """Wait for what the submitted page leads to, answering a 3-D Secure challenge on
        the way when this checkout expects one."""
        what = _describe_next(index, self)
        three_ds = self.profile.payment.three_d_secure
        if self._challenge is None or three_ds is None:
            await self._arrive([following], what)
            return ""
        answer = three_ds.complete if self._challenge == "complete" else three_ds.fail
        button = three_ds.target(answer)
        last = index == len(self.checkout_pages) - 1
        try:
            found = await self._arrive([following, button], f"{what} or the 3-D Secure challenge")
        except CheckFailed as failure:
            if failure.kind in _NOTHING_CAME:
                raise CheckFailed(
                    FailureKind.THREE_D_SECURE_FAILED,
                    f"the 3-D Secure challenge ({three_ds.target(three_ds.complete)}) never "
                    f"appeared: {failure.message}",
                ) from None
            raise
        if found == following:
            if not last:
                return ""  # the challenge comes when the order is placed
            raise CheckFailed(
                FailureKind.THREE_D_SECURE_FAILED,
                "the payment went through without the 3-D Secure challenge this card needs "
                f"(payment.three_d_secure.card): {await self._shown()}",
            )
        await self.actions.click(button, f"the 3-D Secure challenge's {self._challenge} button")
        try:
            await self._arrive([following], what)
        except CheckFailed as failure:
            challenge = parse_target(button)
            marker = Target((), challenge.frames[0]) if challenge.frames else challenge
            if failure.kind in _NOTHING_CAME and await self._visible(marker.text):
                raise CheckFailed(
                    FailureKind.THREE_D_SECURE_FAILED,
                    f"answered the 3-D Secure challenge ({self._challenge}: {answer}), but it "
                    f"never finished: it still shows over {await self._shown()}",
                ) from None
            raise
        return f"3-D Secure challenge: {self._challenge}d"

    async def _arrive(self, expected: list[str], what: str) -> str:
        """``_settle``, but a shopper left on another site (a hosted payment page that never
        sent them back) is told as that, not as a missing element."""
        try:
            return await self._settle(expected, what)
        except CheckFailed as failure:
            away = _origin(self.page.url)
            if failure.kind in _NOTHING_CAME and away and away != _origin(self.profile.base_url):
                raise CheckFailed(
                    FailureKind.PAYMENT_REDIRECT_FAILED,
                    f"the shopper is still on {away}, which never sent them back to the shop "
                    f"(expected {what}); the browser shows {await self._shown()}",
                ) from None
            raise

    async def _reveal(self, selector: str, what: str) -> None:
        """Click what a form hides behind ("Continue as guest", "I have a voucher code")
        when it shows; a form already in view needs no click."""
        if await self._visible(selector):
            await self.actions.click(selector, what)

    async def _visible(self, selector: str) -> bool:
        return await self.actions.visible(selector)

    async def checkout_with_card(
        self,
        card_number: str,
        *,
        expect_decline: bool,
        email: str | None = None,
        challenge: Challenge | None = None,
    ) -> str | None:
        """As a new shopper (typing ``email`` if given), buy the product paying with
        ``card_number``; return the order number, or None when a decline was expected and
        came (``CheckFailed`` otherwise). ``challenge``: the card needs 3-D Secure, and the
        challenge is to be completed or failed."""
        await self.start_fresh_cart()
        await self.open_cart()
        await self.start_checkout()
        self._card_number, self._email, self._challenge = card_number, email, challenge
        try:
            for index in range(len(self.checkout_pages)):
                await self.complete_checkout_page(index)
        except CheckFailed as failure:
            if expect_decline and failure.kind is FailureKind.PAYMENT_DECLINED:
                self.last_decline = failure.message
                return None
            raise
        finally:
            self._card_number = self._email = self._challenge = None
        return await self.read_confirmation()

    @property
    def three_d_secure(self) -> ThreeDSecure | None:
        return self.profile.payment.three_d_secure

    async def read_confirmation(self) -> str:
        confirmation = self.profile.checkout.confirmation
        await self._expect(confirmation.present, "the order confirmation")
        text = await self._loc(confirmation.order_number).first.inner_text()
        match = re.search(confirmation.order_number_pattern, text)
        if not match:
            raise CheckFailed(
                FailureKind.ASSERTION,
                f"the confirmation shows no order number matching "
                f"{confirmation.order_number_pattern!r}: {quote(text)}",
            )
        return match[1] if match.groups() else match[0]

    # --- discount codes ---------------------------------------------------------------------

    async def start_fresh_cart(self, min_order_minor: int | None = None) -> None:
        """Forget the session (a new shopper) and put enough of the product in the cart."""
        await self.page.context.clear_cookies()
        # Carts kept by scripts live in the shop's web storage: forget them too.
        await self.page.evaluate(
            "() => { try { localStorage.clear(); sessionStorage.clear(); } catch (e) {} }"
        )
        await self.open_product()
        quantity = 1
        if min_order_minor:
            price = await self.product_price()
            quantity = max(1, -(-min_order_minor // max(price, 1)))  # ceiling division
        await self.add_to_cart(quantity)

    async def apply_discount(self, code: str) -> DiscountOutcome:
        """Apply ``code`` in the cart and read what the shop made of it."""
        discounts = self._discounts()
        await self._open(self.profile.cart.path, "the cart")
        subtotal = await self._money(discounts.subtotal, "the cart subtotal")
        total_before = await self._money(discounts.total, "the cart total")
        if discounts.reveal:
            await self._reveal(discounts.reveal, "the button that shows the discount form")
        await self.actions.fill(discounts.code_input, code, "the discount code field")
        await self._click(discounts.apply, "the apply-discount button")
        found = await self._settle(
            [discounts.applied, discounts.rejected], f"the shop's answer to {code}"
        )
        message = await self._loc(found).first.inner_text()
        shown = discounts.discount_line is not None and await self._visible(discounts.discount_line)
        return DiscountOutcome(
            code=code,
            accepted=found == discounts.applied,
            message=" ".join(message.split()),
            subtotal=subtotal,
            total_before=total_before,
            total_after=await self._money(discounts.total, "the cart total"),
            discount_line_shown=shown,
        )

    def _discounts(self) -> Discounts:
        if self.profile.discounts is None:
            raise CheckFailed(
                FailureKind.JOURNEY_ERROR, "the storefront profile has no discounts section"
            )
        return self.profile.discounts

    async def _money(self, selector: str, what: str) -> int:
        locator = self._loc(selector).first
        if not await self._appears(locator):
            raise CheckFailed(
                FailureKind.ELEMENT_MISSING, f"{what} ({selector}) is not on {await self._shown()}"
            )
        text = await locator.inner_text()
        decimals = self.profile.discounts.currency_decimals if self.profile.discounts else 2
        try:
            return parse_money(text, decimals)
        except ValueError:
            raise CheckFailed(
                FailureKind.ASSERTION, f"{what} shows no amount: {quote(text)}"
            ) from None

    # --- product images ------------------------------------------------------------------

    @property
    def image_pages(self) -> list[str]:
        """The product pages configured for the image check (default: the monitored one)."""
        images = self.profile.images
        return (images.pages or [self.profile.product.path])[: images.max_pages]

    async def product_pages_from_listing(self) -> list[str]:
        """Paths of the product pages the listing links to, in page order, bounded."""
        images = self.profile.images
        if images.listing is None:
            return self.image_pages
        await self._open(images.listing, "the product listing")
        links = self._loc(images.product_links)
        if not await self._appears(links.first):
            raise CheckFailed(
                FailureKind.ELEMENT_MISSING,
                f"no product links ({images.product_links}) on {await self._shown()}",
            )
        hrefs = await links.evaluate_all("els => els.map(e => e.getAttribute('href'))")
        own_host = (urlsplit(self.profile.base_url).hostname or "").removeprefix("www.")
        listing_path = urlsplit(self.profile.url(images.listing)).path
        paths: list[str] = []
        for href in hrefs:
            link = urlsplit(urljoin(self.page.url, href or ""))
            path = link.path + (f"?{link.query}" if link.query else "")
            host = (link.hostname or "").removeprefix("www.")
            if host == own_host and link.path != listing_path and path not in paths:
                paths.append(path)
        if not paths:
            raise CheckFailed(
                FailureKind.ELEMENT_MISSING,
                f"the listing {images.listing} links to no product page of {own_host} "
                f"({images.product_links})",
            )
        return paths[: images.max_pages]

    async def check_images(self, path: str) -> str:
        """Check every image a shopper sees on ``path``; fail with each broken one's reason."""
        images = self.profile.images
        document = await self._open(path, "the product page")
        seen = await seen_images(self.page, self._wait_ms() / 2)
        if not seen:
            raise CheckFailed(FailureKind.IMAGE_BROKEN, f"{path} shows no images at all")
        baseline_file = (self._base_dir / images.baseline) if images.baseline else None
        verdicts = await judge_images(
            self.page,
            seen,
            rules_from(images),
            Baseline.load(baseline_file),
            images.concurrency,
            self._wait_ms(),
            document.request.headers if document is not None else {},
            self.allowlist,
        )
        broken = [v for v in verdicts if not v.ok]
        self.tally["images_checked"] += len(verdicts)
        self.tally["images_broken"] += len(broken)
        self.broken_images.extend(v.url for v in broken)
        if broken:
            details = "; ".join(f"{v.url}: {', '.join(v.problems)}" for v in broken)
            raise CheckFailed(
                FailureKind.IMAGE_BROKEN,
                f"{len(broken)} of {len(verdicts)} images broken on {path}: {details}",
            )
        warned = [v for v in verdicts if v.warnings]
        note = f"{path}: {len(verdicts)} images intact"
        if warned:
            note += "; warnings: " + "; ".join(f"{v.url}: {', '.join(v.warnings)}" for v in warned)
        return note

    # --- waiting and reading what the shop shows ----------------------------------------

    def _loc(self, selector: str) -> Locator:
        """The shop's element, in whatever iframe the selector reaches into."""
        return self.actions.locate(selector)

    async def _install_overlays(self) -> None:
        """Have Playwright close each declared overlay whenever it covers an action: at any
        moment, and at no cost to shops that declare none.

        Playwright looks for every handler's element before every action, a round trip
        each; so the overlays on the page itself share one handler (one look for all of
        them), and only those inside a frame, which a selector cannot join, get their own."""
        self._overlays_installed = True
        on_page: list[Overlay] = []
        groups = [on_page]
        for overlay in self.profile.overlays:
            if parse_target(overlay.present).frames:
                groups.append([overlay])
            else:
                on_page.append(overlay)
        groups = [group for group in groups if group]
        for group in groups:
            present = self._loc(group[0].present)
            for overlay in group[1:]:
                present = present.or_(self._loc(overlay.present))
            # no_wait_after: an overlay that will not close must not hold up every wait
            # (Playwright runs handlers before waits too); the action it covers fails
            # instead, and says which overlay stayed
            await self.page.add_locator_handler(
                present.first, self._dismisser(group), no_wait_after=True
            )

    def _dismisser(self, overlays: list[Overlay]) -> Callable[[Locator], Awaitable[None]]:
        async def dismiss(_: Locator) -> None:
            async with self._dismissing:  # one at a time, whatever called for it
                for overlay in overlays:  # whichever of them are showing
                    await self._dismiss(overlay)

        return dismiss

    async def _dismiss(self, overlay: Overlay) -> None:
        if not await self._visible(overlay.present):
            return  # not showing, or closed meanwhile
        self.actions.tried.add(overlay.name)
        try:
            await self._loc(overlay.dismiss).first.click(timeout=min(2000, self._wait_ms()))
        except PlaywrightError:
            return  # still showing: the action it held up says so when it gives up
        self.tally["overlays_dismissed"] += 1

    def _render(self, template: str) -> str:
        return self.profile.render(template, card_number=self._card_number, email=self._email)

    def _wait_ms(self) -> float:
        return wait_ms(self._time_left)

    def _remember_document(self, response: Response) -> None:
        request = response.request
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self._last_document = response
            if 300 <= response.status < 400:
                self._redirects.append(response.url)

    async def _open(self, path: str, what: str) -> Response | None:
        if not self._overlays_installed:
            await self._install_overlays()
        url = self.profile.url(path)
        self._showing = None
        self._last_document = None
        self._redirects.clear()
        try:
            response = await goto_with_retries(
                self.page,
                url,
                wait_until=self.profile.navigation_wait,
                timeout_ms=self._wait_ms(),
                attempts=1 + self._navigation_retries,
            )
        except PlaywrightTimeoutError:
            started = self._last_document
            if started is None or started.status >= 300:
                message = f"{what} ({path}) did not load (no answer from the shop)"
            else:  # the answer began and never ended: a stuck backend, a page still streaming
                message = (
                    f"{what} ({path}) began (HTTP {started.status}) but never finished loading"
                )
            raise CheckFailed(FailureKind.TIMEOUT, message) from None
        except PlaywrightError as exc:
            net = net_failure(exc)
            if net is None:
                raise
            trail = self._redirect_trail() if net.kind is FailureKind.HTTP_ERROR else ""
            raise CheckFailed(net.kind, net.message(f"{what} ({path})", trail)) from None
        if response is not None and response.status >= 400:
            raise CheckFailed(
                FailureKind.HTTP_ERROR,
                f"{what} answered HTTP {response.status} ({path}): {await self._shown()}",
            )
        return response

    def _redirect_trail(self) -> str:
        """': /a -> /b -> /a -> ...': where the last load was sent, up to the first repeat;
        "" when it was not redirected."""
        shown: list[str] = []
        for url in self._redirects:
            parts = urlsplit(url)
            same_shop = url.startswith(self.profile.base_url)
            short = (parts.path + (f"?{parts.query}" if parts.query else "")) if same_shop else url
            repeat = short in shown
            shown.append(short)
            if repeat or len(shown) == 6:
                shown.append("...")
                break
        return f": {' -> '.join(shown)}" if shown else ""

    async def _click(
        self, selector: str, what: str, disabled: FailureKind = FailureKind.ASSERTION
    ) -> None:
        """Click, leaving the waits (visible, enabled, stable) to Playwright; when the click
        cannot happen, say why in the shop's terms."""
        self._last_document = None  # judge only what this click loads
        self._showing = None
        try:
            await self.actions.click(selector, what, disabled)
        except CheckFailed as failure:
            if failure.kind is FailureKind.ELEMENT_MISSING and ">>>" not in selector:
                raise CheckFailed(
                    failure.kind, f"{what} ({selector}) is not on {await self._shown()}"
                ) from None
            raise

    def _document_status(self) -> int:
        """HTTP status of the page the last click or load brought; 0 when none came."""
        return self._last_document.status if self._last_document else 0

    async def _expect(self, selector: str, what: str) -> None:
        await self._settle([selector], what)

    async def _settle(self, expected: list[str], what: str) -> str:
        """Wait until an expected element or a failure signal shows; fail with its kind.

        An error page (HTTP 4xx/5xx) has already loaded, so it is judged at once: by a
        failure signal when the shop explains itself, else as an HTTP error.
        """
        self._showing = None
        if self._document_status() < 400:
            self._showing = await self._first_of(expected)
            if self._showing is not None:
                return self._showing  # the shop moved on as expected: no signal to look for
        signal = await self._failure_signal()
        if signal is not None:
            raise CheckFailed(*signal)
        shown = await self._shown()
        status = self._document_status()
        if status >= 400:
            raise CheckFailed(FailureKind.HTTP_ERROR, f"the shop answered HTTP {status}: {shown}")
        overlay = await self.actions.overlay_still_showing()
        if overlay is not None:
            raise CheckFailed(
                FailureKind.OVERLAY_BLOCKING,
                f"{self.actions.covering(overlay)}, and {what} did not come: {shown}",
            )
        raise CheckFailed(
            FailureKind.ELEMENT_MISSING, f"expected {what} ({' or '.join(expected)}), got {shown}"
        )

    async def _first_of(self, selectors: list[str]) -> str | None:
        """The first of ``selectors`` (or any failure signal) to appear, within the step."""
        candidates = [parse_target(s) for s in selectors]
        candidates += [_visible_only(s.selector) for s in self.profile.failure_signals]
        if not await self._any_attached(candidates):
            return None
        for selector in selectors:
            if await self._count(selector):
                return selector
        return None

    async def _any_attached(self, targets: list[Target]) -> bool:
        """Wait until any of ``targets`` is in its document. Those on the page itself wait
        as one locator. Playwright cannot join locators across frames, so those inside
        frames are looked for between short waits, one wait at a time: waits side by side
        would run the overlay handlers side by side, and those trip over each other."""
        on_page: Locator | None = None
        for target in targets:
            if not target.frames:
                found = target.locate(self.page)
                on_page = found if on_page is None else on_page.or_(found)
        framed = [target.text for target in targets if target.frames]
        if not framed:
            assert on_page is not None
            return await self._attached(on_page, self._wait_ms())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_ms() / 1000
        while True:
            for selector in framed:
                if await self.actions.count(selector):
                    return True
            left_ms = (deadline - loop.time()) * 1000
            if left_ms <= 0:
                return False
            if on_page is None:
                await asyncio.sleep(min(left_ms, _FRAME_POLL_MS) / 1000)
            elif await self._attached(on_page, min(left_ms, _FRAME_POLL_MS)):
                return True

    @staticmethod
    async def _attached(locator: Locator, timeout_ms: float) -> bool:
        try:
            await locator.first.wait_for(state="attached", timeout=timeout_ms)
        except PlaywrightError:  # timed out, or the page went away meanwhile
            return False
        return True

    async def _count(self, selector: str) -> int:
        return await self.actions.count(selector)

    def _signal_locator(self, selector: str) -> Locator:
        return _visible_only(selector).locate(self.page)

    async def _failure_signal(self) -> tuple[FailureKind, str] | None:
        """The first configured signal the page shows, with everything it says."""
        for signal in self.profile.failure_signals:
            target = parse_target(signal.selector)
            if target.frames and await target.missing_frame(self.page) is not None:
                continue  # its frame is not on this page: nothing to read, nothing to wait for
            texts = await self._signal_locator(signal.selector).all_inner_texts()
            said = [
                t
                for t in texts
                if t.strip() and (signal.text is None or re.search(signal.text, t, re.I))
            ]
            if said:
                return signal.kind, f"{self._speaker()} said {quote(' / '.join(said), limit=240)}"
        return None

    def _speaker(self) -> str:
        """Who shows the page now: the shop, or another site the checkout went to (the
        payment provider's hosted page)."""
        away = _origin(self.page.url)
        if away and away != _origin(self.profile.base_url):
            return f"the page at {away}"
        return "the shop"

    async def _appears(self, locator: Locator) -> bool:
        try:
            await locator.wait_for(state="visible", timeout=self._wait_ms())
        except PlaywrightTimeoutError:
            return False
        return True

    async def _shown(self) -> str:
        """A one-line description of the page a person would see: title and heading."""
        try:
            title, heading = await self.page.evaluate(
                "() => [document.title, (document.querySelector('h1, h2') || {}).innerText || '']"
            )
        except Exception:  # the page may be mid-navigation or gone; the URL still helps
            return f"the page at {self.page.url}"
        parts = [p for p in (str(title).strip(), str(heading).strip()) if p]
        shown = " / ".join(dict.fromkeys(parts)) or "an empty page"
        return f"{quote(shown)} at {self.page.url}"

    def _first_checkout_presents(self) -> list[str]:
        """Selectors of the pages checkout may open on: any optional ones, up to the first
        page the shop cannot skip."""
        presents = []
        for page_spec in self.checkout_pages:
            presents.append(page_spec.target(page_spec.present))
            if not page_spec.optional:
                break
        return presents

    def _next_present(self, index: int) -> str:
        pages = self.checkout_pages
        if index + 1 < len(pages):
            return pages[index + 1].target(pages[index + 1].present)
        return self.profile.checkout.confirmation.present


def _describe_next(index: int, shop: Storefront) -> str:
    pages = shop.checkout_pages
    if index + 1 < len(pages):
        return f"the {pages[index + 1].step!r} page"
    return "the order confirmation"


_FRAME_POLL_MS = 200  # how often targets inside frames are looked for while waiting

# A step that waited in vain: nothing it expected came (rather than an error it recognised).
_NOTHING_CAME = frozenset({FailureKind.ELEMENT_MISSING, FailureKind.TIMEOUT})


def _missing_kind(template: str) -> FailureKind:
    """Card fields that never appear are the payment provider's form failing to load."""
    return (
        FailureKind.PAYMENT_FIELDS_UNAVAILABLE
        if "{card." in template
        else (FailureKind.ELEMENT_MISSING)
    )


def _visible_only(selector: str) -> Target:
    target = parse_target(selector)
    return Target(target.frames, f"{target.selector} >> visible=true")


def _origin(url: str) -> str:
    """``scheme://host:port`` of ``url`` ("" for about:blank and the like)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{parts.hostname.removeprefix('www.')}:{port}"
