"""Selectors that reach into iframes: ``"iframe#card-frame >>> input[name=number]"``.

Payment providers put card fields in an iframe of their own origin (Stripe Elements,
Braintree Hosted Fields, Adyen), and 3-D Secure challenges in an iframe inside that. A
profile names them with ``>>>`` between the iframe's selector and what is inside it, as
many times as frames nest. Underneath it is Playwright's frame locators, which follow
cross-origin, out-of-process frames as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

FRAME_SEPARATOR = ">>>"


@dataclass(frozen=True)
class Target:
    """One element of the shop: ``selector`` inside the iframes ``frames`` (outermost
    first; empty: the page itself)."""

    frames: tuple[str, ...]
    selector: str

    @property
    def text(self) -> str:
        """As a profile writes it."""
        return f" {FRAME_SEPARATOR} ".join((*self.frames, self.selector))

    @property
    def frame_text(self) -> str:
        """The frames alone, as a profile writes them ("" on the page itself)."""
        return f" {FRAME_SEPARATOR} ".join(self.frames)

    def locate(self, page: Page) -> Locator:
        """The element as a Playwright locator (the first match of each frame)."""
        if not self.frames:
            return page.locator(self.selector)
        frame = page.locator(self.frames[0]).first.content_frame
        for inner in self.frames[1:]:
            frame = frame.locator(inner).first.content_frame
        return frame.locator(self.selector)

    def frame_element(self, page: Page, depth: int) -> Locator:
        """The ``<iframe>`` element of frame ``depth`` (0: the outermost)."""
        return Target(self.frames[:depth], self.frames[depth]).locate(page).first

    async def missing_frame(self, page: Page) -> str | None:
        """The first frame on the way that is not in the page now (None: all there).

        Ask before any query that does not wait (count, is_visible, inner texts): through
        a frame that is not there, Playwright waits for it to appear, up to its default
        timeout."""
        for depth, frame in enumerate(self.frames):
            if not await self.frame_element(page, depth).count():
                return frame
        return None


def parse_target(text: str) -> Target:
    """``text`` split at ``>>>``; ``ValueError`` says what is wrong with it."""
    parts = [part.strip() for part in text.split(FRAME_SEPARATOR)]
    if not all(parts):
        if len(parts) == 1:
            raise ValueError("a selector may not be empty")
        raise ValueError(
            f"{text!r}: each side of {FRAME_SEPARATOR!r} needs a selector, as in "
            f"'iframe#card-frame {FRAME_SEPARATOR} input[name=number]' (the iframe, then "
            "what is inside it)"
        )
    return Target(tuple(parts[:-1]), parts[-1])


def check_selector(text: str) -> str:
    """A profile's selector, validated (the config reports the ``ValueError``)."""
    parse_target(text)
    return text.strip()


def within(frame: str | None, selector: str) -> str:
    """``selector`` inside the iframe chain ``frame`` (a checkout page's ``frame:``)."""
    return f"{frame} {FRAME_SEPARATOR} {selector}" if frame else selector
