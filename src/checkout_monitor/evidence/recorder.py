"""What one journey attempt leaves behind when it fails, for the person who has to fix it.

While an attempt runs, the recorder only listens (console errors, uncaught page errors,
failed requests, each list bounded) and, if asked, records a Playwright trace. Only when
the attempt fails does it take a screenshot (card and password fields masked), keep the
page's HTML, and keep the trace, all scrubbed of secrets. A passing attempt writes nothing.

Files in the attempt folder:
  screenshot.png  the whole page at the moment of failure; sensitive inputs, and elements
                  showing a secret or card number as text, masked (images cannot be scrubbed)
  page.html       the page's DOM at that moment (``page.content()``), scrubbed
  console.txt     console errors and uncaught page errors, one per line, scrubbed
  requests.json   failed requests: url, method, status (null: no answer), error
  frames.txt      the page's iframes (payment fields, 3-D Secure), nested, with their URLs
  trace.zip       the Playwright trace, every entry scrubbed (``playwright show-trace``)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import tempfile
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TypeVar

from playwright.async_api import (
    BrowserContext,
    ConsoleMessage,
    Frame,
    Page,
    Request,
    Response,
    WebError,
)
from playwright.async_api import Error as PlaywrightError

from checkout_monitor.browser.frames import parse_target
from checkout_monitor.config.storefront_profile import StorefrontProfile
from checkout_monitor.evidence.artifacts import RunFolder, os_reason
from checkout_monitor.evidence.redaction import EvidenceRedactor
from checkout_monitor.results import Evidence, FailedRequest
from checkout_monitor.text.quoting import first_line

log = logging.getLogger("checkout_monitor.evidence")  # the name logs and filters know
_T = TypeVar("_T")

MAX_ENTRIES = 50  # per list: the last ones, nearest the failure, are kept
MAX_URL_LENGTH = 2000  # data: URLs can be megabytes
MASK_COLOR = "#FF00FF"
SCREENSHOT = "screenshot.png"
HTML = "page.html"
CONSOLE = "console.txt"
REQUESTS = "requests.json"
FRAMES = "frames.txt"
TRACE = "trace.zip"
# Inputs masked on every shop, whatever the profile says.
SENSITIVE_INPUTS = (
    "input[type=password]",
    "[autocomplete=cc-number]",
    "[autocomplete=cc-csc]",
    "[autocomplete=current-password]",
    "[autocomplete=new-password]",
)
_CAPTURE_SECONDS = 2.0  # each of screenshot and HTML: a wedged page must not hold the run
_TRACE_STOP_SECONDS = 30.0


def sensitive_inputs(profile: StorefrontProfile, secrets: Iterable[str]) -> list[str]:
    """Selectors to mask in screenshots: the common card and password fields, and every
    checkout field the profile fills with a card detail or a value from ``${ENV}``."""
    secret_values = [s for s in secrets if s]
    selectors = list(SENSITIVE_INPUTS)
    for page in profile.checkout.pages:
        for selector, template in page.fill.items():
            if "{card." in template or any(s in template for s in secret_values):
                selectors.append(page.target(selector))
    return list(dict.fromkeys(selectors))


class EvidenceRecorder:
    """Listens to one attempt's browser context; on failure, keeps what a person needs."""

    def __init__(
        self,
        context: BrowserContext,
        redactor: EvidenceRedactor,
        mask: list[str],
        *,
        trace: bool = False,
    ) -> None:
        self._context = context
        self._redactor = redactor
        self._mask = mask
        self._trace = trace
        self._tracing = False
        self._console: deque[str] = deque(maxlen=MAX_ENTRIES)
        self._requests: deque[FailedRequest] = deque(maxlen=MAX_ENTRIES)
        self._console_seen = 0
        self._requests_seen = 0
        self._problems: list[str] = []

    async def start(self) -> None:
        """Listen, and start the trace if asked; a trace that cannot start is a problem noted
        in the evidence, never a failed journey."""
        self._context.on("console", self._on_console)
        self._context.on("weberror", self._on_web_error)
        self._context.on("requestfailed", self._on_request_failed)
        self._context.on("response", self._on_response)
        if self._trace:
            try:
                # No screenshots: images cannot be scrubbed of secrets; DOM snapshots can.
                await self._context.tracing.start(screenshots=False, snapshots=True, sources=False)
                self._tracing = True
            except PlaywrightError as exc:
                self._problems.append(f"no trace: it did not start: {self._reason(exc)}")

    async def discard(self) -> None:
        """The attempt passed: drop the trace, write nothing."""
        if self._tracing:
            self._tracing = False
            with contextlib.suppress(PlaywrightError, TimeoutError):
                await asyncio.wait_for(self._context.tracing.stop(), _TRACE_STOP_SECONDS)

    async def capture(
        self, run: RunFolder, journey: str, attempt: int, broken_images: Iterable[str] = ()
    ) -> Evidence:
        """The attempt failed: keep screenshot, HTML, console, requests and trace."""
        problems = self._problems
        files: dict[str, bytes] = {}
        page = _current_page(self._context)
        if page is None:
            problems.append("no screenshot or HTML: the journey had no open page")
        else:
            # side by side: a page still loading makes each wait its full budget
            shot, content = await asyncio.gather(
                self._attempt(problems, "screenshot", lambda: self._screenshot(page)),
                self._attempt(problems, "page HTML", page.content),
            )
            if shot is not None:
                files[SCREENSHOT] = shot
            if content is not None:
                files[HTML] = self._redactor.text(content).encode()
            frames = _frame_tree(page)
            if frames:
                files[FRAMES] = self._redactor.text(frames).encode()
        console = tuple(self._redactor.text(line) for line in self._console)
        if self._console_seen > len(console):
            console = (f"({self._console_seen - len(console)} earlier errors not kept)", *console)
        requests = tuple(
            FailedRequest(
                self._redactor.text(r.url[:MAX_URL_LENGTH]),
                r.method,
                r.status,
                self._redactor.text(r.error),
            )
            for r in self._requests
        )
        if self._requests_seen > len(requests):
            problems.append(
                f"{self._requests_seen - len(requests)} earlier failed requests not kept"
            )
        if console:
            files[CONSOLE] = ("\n".join(console) + "\n").encode()
        if requests:
            files[REQUESTS] = json.dumps([asdict(r) for r in requests], indent=2).encode()

        relative = run.attempt_relative(journey, attempt)
        written: set[str] = set()
        # a full or read-only disk: said once, in one line, by the store; then ignored
        write_errors: list[OSError] = []
        write_problems: list[str] = []
        raw_trace = await self._stop_trace(problems)
        try:
            try:
                folder = await asyncio.to_thread(run.attempt_folder, journey, attempt)
            except OSError as exc:
                write_errors.append(exc)
                write_problems.append(
                    f"nothing written: cannot create {run.root / relative}: {os_reason(exc)}"
                )
            else:
                written = await asyncio.to_thread(
                    self._write, folder, files, raw_trace, write_problems, write_errors
                )
        finally:
            if raw_trace is not None:
                shutil.rmtree(raw_trace.parent, ignore_errors=True)

        for problem in problems:
            log.warning("%s attempt %d: evidence: %s", journey, attempt, problem)
        lost = sorted({*files, *([TRACE] if raw_trace else [])} - written)
        run.store.evidence_written(run.root / relative, write_errors, lost)
        problems += write_problems

        def path(name: str) -> str | None:
            return f"{relative}/{name}" if name in written else None

        return Evidence(
            folder=relative,
            screenshot=path(SCREENSHOT),
            html=path(HTML),
            trace=path(TRACE),
            console_errors=console,
            failed_requests=requests,
            broken_images=tuple(
                self._redactor.text(url[:MAX_URL_LENGTH])
                for url in list(broken_images)[-MAX_ENTRIES:]
            ),
            problems=tuple(problems),
        )

    # --- listeners: cheap, because every passing attempt pays for them -----------------

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self._console_seen += 1
            self._console.append(message.text)

    def _on_web_error(self, error: WebError) -> None:
        self._console_seen += 1
        self._console.append(f"uncaught: {error.error.message}")

    def _on_request_failed(self, request: Request) -> None:
        self._requests_seen += 1
        self._requests.append(
            FailedRequest(request.url, request.method, None, request.failure or "")
        )

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self._requests_seen += 1
            self._requests.append(
                FailedRequest(
                    response.url, response.request.method, response.status, response.status_text
                )
            )

    # --- capture ------------------------------------------------------------------------

    async def _screenshot(self, page: Page) -> bytes:
        mask = [parse_target(selector).locate(page) for selector in self._mask]
        mask += [page.get_by_text(value) for value in sorted(self._redactor.plain)]
        return await page.screenshot(
            full_page=True,
            mask=mask,
            mask_color=MASK_COLOR,
            animations="disabled",
            caret="hide",
            timeout=_CAPTURE_SECONDS * 1000,
        )

    async def _attempt(
        self, problems: list[str], what: str, take: Callable[[], Awaitable[_T]]
    ) -> _T | None:
        try:
            return await asyncio.wait_for(take(), _CAPTURE_SECONDS + 1)
        except (PlaywrightError, TimeoutError) as exc:
            problems.append(f"no {what}: {self._reason(exc)}")
            return None

    async def _stop_trace(self, problems: list[str]) -> Path | None:
        """Stop the trace into a private temporary folder; it is scrubbed on its way out."""
        if not self._tracing:
            return None
        self._tracing = False
        folder = Path(tempfile.mkdtemp(prefix="checkout-monitor-trace-"))
        raw = folder / TRACE
        try:
            await asyncio.wait_for(self._context.tracing.stop(path=raw), _TRACE_STOP_SECONDS)
        except (PlaywrightError, TimeoutError, OSError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            problems.append(f"no trace: it could not be saved: {self._reason(exc)}")
            return None
        return raw

    def _write(
        self,
        folder: Path,
        files: dict[str, bytes],
        raw_trace: Path | None,
        problems: list[str],
        errors: list[OSError],
    ) -> set[str]:
        """Write each file on its own, so a full disk loses what did not fit, not the rest."""
        written: set[str] = set()
        for name, data in files.items():
            try:
                (folder / name).write_bytes(data)
                written.add(name)
            except OSError as exc:
                errors.append(exc)
                with contextlib.suppress(OSError):  # half a screenshot would mislead
                    (folder / name).unlink(missing_ok=True)
                problems.append(f"{name} not written: {os_reason(exc)}")
        if raw_trace is not None:
            partial = folder / f"{TRACE}.partial"
            try:
                self._redactor.zip_file(raw_trace, partial)
                partial.replace(folder / TRACE)
                written.add(TRACE)
            except Exception as exc:  # a bad zip, a full disk: never an unscrubbed trace left
                if isinstance(exc, OSError):
                    errors.append(exc)
                with contextlib.suppress(OSError):
                    partial.unlink(missing_ok=True)
                problems.append(f"{TRACE} not written: {os_reason(exc)}")
        return written

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError):
            return "it took too long"
        message = exc.message if isinstance(exc, PlaywrightError) else str(exc)
        return self._redactor.text(first_line(message))


def _frame_tree(page: Page) -> str:
    """The page's iframes, one a line, indented by depth: which frame a failure was in
    (a provider's card fields, a 3-D Secure challenge) and where it had got to. "" when
    the page has none."""
    lines: list[str] = []

    def walk(frame: Frame, depth: int) -> None:
        for child in frame.child_frames[:MAX_ENTRIES]:
            name = f" name={child.name!r}" if child.name else ""
            lines.append(f"{'  ' * depth}{child.url[:MAX_URL_LENGTH]}{name}")
            walk(child, depth + 1)

    walk(page.main_frame, 0)
    return "".join(f"{line}\n" for line in lines[:MAX_ENTRIES])


def _current_page(context: BrowserContext) -> Page | None:
    """The page the journey was on: the last one opened that is still open."""
    pages = [page for page in context.pages if not page.is_closed()]
    return pages[-1] if pages else None
