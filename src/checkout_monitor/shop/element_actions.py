"""Clicking, filling, choosing and ticking one element of the shop, and when that cannot be
done, saying why in the shop's terms: not there, inside a frame that never loaded, on the
page but hidden, covered by something else, disabled, or simply too slow.

A wrong diagnosis sends the person on call to the wrong team: an element that is hidden is
the theme's or the profile's doing, never the hosting's, so it is never called a timeout.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from playwright.async_api import Locator, Page, Request, Response
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from checkout_monitor.browser.frames import Target, parse_target
from checkout_monitor.config.storefront_profile import Overlay
from checkout_monitor.failure_kinds import FailureKind
from checkout_monitor.step_failures import CheckFailed

# Playwright's call log names the element a click landed on instead of its target, e.g.
# '<div id="consent">…</div> intercepts pointer events', or '<p>…</p> from <div
# id="modal">…</div> subtree intercepts pointer events' (the outer element is the overlay).
_INTERCEPTS = re.compile(
    r"(<[^>\n]{1,300}>)(?:[^<\n]*</[^>\n]*>)?(?: from (<[^>\n]{1,300}>)[^\n]*? subtree)? "
    r"intercepts pointer events"
)
MAX_FAILED_SCRIPTS = 5


def covering_element(call_log: str) -> str | None:
    """The opening tag of the element that took a click meant for another, if any."""
    found = _INTERCEPTS.findall(call_log)
    if not found:
        return None
    inner, outer = found[-1]
    return str(outer or inner)


@dataclass
class ElementActions:
    """The actions of one page, bounded by ``wait_ms`` (what is left of the step)."""

    page: Page
    wait_ms: Callable[[], float]
    overlays: list[Overlay] = field(default_factory=list)
    setting: str = "the storefront profile"  # where overlays are declared, for messages
    failed_scripts: list[str] = field(default_factory=list)  # "URL (HTTP 503)", bounded
    tried: set[str] = field(default_factory=set)  # overlays whose close button was clicked

    def watch(self) -> None:
        """Note scripts that fail to load: the usual reason hosted card fields never show."""
        self.page.on("response", self._script_answered)
        self.page.on("requestfailed", self._script_failed)

    def locate(self, selector: str) -> Locator:
        return parse_target(selector).locate(self.page)

    async def click(
        self, selector: str, what: str, disabled: FailureKind = FailureKind.ASSERTION
    ) -> None:
        await self._act(selector, what, "clicked", lambda el, ms: el.click(timeout=ms), disabled)

    async def fill(
        self,
        selector: str,
        value: str,
        what: str,
        missing: FailureKind = FailureKind.ELEMENT_MISSING,
    ) -> None:
        await self._act(
            selector, what, "filled in", lambda el, ms: el.fill(value, timeout=ms), missing=missing
        )

    async def choose(
        self,
        selector: str,
        value: str,
        what: str,
        missing: FailureKind = FailureKind.ELEMENT_MISSING,
    ) -> None:
        await self._act(
            selector,
            what,
            "chosen",
            lambda el, ms: el.select_option(value, timeout=ms),
            missing=missing,
        )

    async def tick(self, selector: str, what: str) -> None:
        await self._act(selector, what, "ticked", lambda el, ms: el.check(timeout=ms))

    async def overlay_still_showing(self) -> Overlay | None:
        """A declared overlay that is showing now, though its handler tried to close it."""
        for overlay in self.overlays:
            if await self.visible(overlay.present):
                return overlay
        return None

    def covering(self, overlay: Overlay) -> str:
        """What a declared overlay still showing is doing, in words."""
        if overlay.name in self.tried:
            return (
                f"the {overlay.name} ({overlay.present}) still covers the page after its close "
                f"button ({overlay.dismiss}) was clicked"
            )
        return f"the {overlay.name} ({overlay.present}) covers the page"

    async def visible(self, selector: str) -> bool:
        """Whether ``selector`` shows now, without waiting for anything (not even for the
        frames on its way)."""
        target = parse_target(selector)
        if target.frames and await target.missing_frame(self.page) is not None:
            return False
        return await _visible(target.locate(self.page).first)

    async def count(self, selector: str) -> int:
        """How many ``selector`` matches now, without waiting (0 when a frame is missing)."""
        target = parse_target(selector)
        if target.frames and await target.missing_frame(self.page) is not None:
            return 0
        return await _count(target.locate(self.page))

    async def why_missing(self, selector: str, what: str) -> str | None:
        """When ``selector`` sits in an iframe that is not there: which, and why it may be
        missing; None when every frame on its way is there."""
        frame = await parse_target(selector).missing_frame(self.page)
        if frame is None:
            return None
        return f"{what} is inside the frame {frame}, which is not on the page{self._script_note()}"

    async def _act(
        self,
        selector: str,
        what: str,
        done: str,
        action: Callable[[Locator, float], Awaitable[object]],
        disabled: FailureKind = FailureKind.ASSERTION,
        missing: FailureKind = FailureKind.ELEMENT_MISSING,
    ) -> None:
        target = parse_target(selector)
        element = target.locate(self.page).first
        before = self.page.url
        try:
            await action(element, self.wait_ms())
        except PlaywrightTimeoutError as exc:
            # it was done; what it set off (a form post, a new page) took the step's time
            if self.page.url != before or "click action done" in exc.message:
                raise CheckFailed(
                    FailureKind.TIMEOUT,
                    f"{what} was {done}, and the shop's answer ({self.page.url}) did not come "
                    "before the step ran out",
                ) from None
            kind, message = await self._diagnose(
                target, element, what, done, disabled, missing, exc
            )
            raise CheckFailed(kind, message) from None

    async def _diagnose(
        self,
        target: Target,
        element: Locator,
        what: str,
        done: str,
        disabled: FailureKind,
        missing: FailureKind,
        exc: PlaywrightTimeoutError,
    ) -> tuple[FailureKind, str]:
        where = f" inside the frame {target.frame_text}" if target.frames else ""
        named = f"{what} ({target.selector}{where})"
        frame_missing = await self.why_missing(target.text, what)
        if frame_missing is not None:
            return missing, frame_missing
        if not await _count(element):
            shown = await _frame_url(self.page, target)
            return missing, f"{named} is not there{shown}, so it could not be {done}"
        overlay = await self.overlay_still_showing()
        if overlay is not None:
            return FailureKind.OVERLAY_BLOCKING, (
                f"{self.covering(overlay)}, so {named} could not be {done}"
                + (": shoppers cannot close it either" if overlay.name in self.tried else "")
            )
        if not await _visible(element):
            return FailureKind.ELEMENT_HIDDEN, (
                f"{named} is on the page but hidden, so it could not be {done}: the theme hides "
                "it (if a button shows it first, set that button as the profile's reveal)"
            )
        covering = covering_element(exc.message)
        if covering is not None:
            return FailureKind.OVERLAY_BLOCKING, (
                f"{named} could not be {done}: the element {covering} is on top of it and "
                "takes the click; if it is a banner or pop-up shoppers close, declare it in "
                f"{self.setting}.overlays"
            )
        if await _disabled(element):
            return disabled, f"{named} is disabled"
        return FailureKind.TIMEOUT, f"{named} could not be {done} before the step ran out"

    def _script_answered(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type == "script":
            self._note_script(f"{response.url} (HTTP {response.status})")

    def _script_failed(self, request: Request) -> None:
        if request.resource_type == "script":
            reason = request.failure or "failed"
            if "ERR_BLOCKED_BY_ORB" in reason:  # Chromium refuses an error page as a script
                reason = f"its answer was not JavaScript, an error page perhaps: {reason}"
            self._note_script(f"{request.url} ({reason})")

    def _note_script(self, text: str) -> None:
        if len(self.failed_scripts) < MAX_FAILED_SCRIPTS:
            self.failed_scripts.append(text[:300])

    def _script_note(self) -> str:
        if not self.failed_scripts:
            return ""
        return f"; a script it needs did not load: {self.failed_scripts[0]}"


async def _count(element: Locator) -> int:
    try:
        return await element.count()
    except Exception:  # the frame went away while it was being read
        return 0


async def _visible(element: Locator) -> bool:
    try:
        return await element.is_visible()
    except Exception:
        return False


async def _disabled(element: Locator) -> bool:
    try:
        return await element.is_disabled(timeout=500)
    except Exception:
        return False


async def _frame_url(page: Page, target: Target) -> str:
    """' in the frame at URL' for a framed target (where the frame had got to), else ''."""
    if not target.frames:
        return ""
    try:
        src = await target.frame_element(page, len(target.frames) - 1).get_attribute(
            "src", timeout=500
        )
    except Exception:
        return ""
    return f" (the frame shows {src})" if src else ""
