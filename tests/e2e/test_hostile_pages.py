"""Hostile pages from the demo shop, walked by real Chromium through the real runner: each is
bounded (download size, decoder limit, redirect count, step timeout), reported in plain words
with a failure kind, and leaves the agent's process, its browser and the shop as they were."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from checkout_monitor.browser.launch import ContextFactory, launch_browser
from checkout_monitor.config.demo import demo_config
from checkout_monitor.config.model import BrowserConfig, SyntheticMarking
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.results import JourneyResult, StepResult
from checkout_monitor.run.monitors_loader import default_monitors_dir, load_monitors
from checkout_monitor.run.plan import PlannedJourney, plan_journeys
from checkout_monitor.run.runner import JourneyRunner
from support.memory_peak import with_peak_memory

pytestmark = pytest.mark.browser
StartShop = Callable[..., DemoShop]
MIB = 1024 * 1024


def planned(
    shop: DemoShop, tmp_path: Path, journey: str, *, step_timeout: float = 4.0, **images: object
) -> PlannedJourney:
    """The demo config's ``journey`` for this shop, with a short step timeout and any
    ``images:`` settings changed."""
    loaded = demo_config(shop, state_dir=tmp_path)
    (plan,) = plan_journeys(loaded, load_monitors(default_monitors_dir()), [journey])
    profile = plan.profile.model_copy(
        update={"images": plan.profile.images.model_copy(update=images)}
    )
    return dataclasses.replace(plan, step_timeout=step_timeout, profile=profile)


def run(
    *plans: PlannedJourney,
    between: Callable[[Browser], None] = lambda _browser: None,
    on_step: Callable[[StepResult], None] = lambda _step: None,
) -> list[JourneyResult]:
    """Run the journeys one after another in one real Chromium; ``between`` is called
    with the browser after each journey."""

    async def main() -> list[JourneyResult]:
        async with async_playwright() as playwright:
            browser = await launch_browser(playwright, BrowserConfig())
            try:
                contexts = ContextFactory(browser, BrowserConfig(), SyntheticMarking())
                runner = JourneyRunner(contexts, "test", on_step=lambda _j, step: on_step(step))
                results = []
                for plan in plans:
                    results.append(await runner.run(plan))
                    between(browser)
                return results
            finally:
                await browser.close()

    return asyncio.run(main())


def failed(result: JourneyResult) -> list[tuple[str, str, str]]:
    return [
        (step.name, step.failure_kind.value if step.failure_kind else "", step.message)
        for step in result.steps
        if not step.ok
    ]


# --- a 50 MiB product image ------------------------------------------------------------------


@pytest.mark.parametrize("content_length", [1, 0], ids=["announced", "chunked"])
def test_huge_image_is_never_read_in_full(
    start_shop: StartShop, tmp_path: Path, content_length: int
) -> None:
    shop = start_shop(
        faults=["huge-image"], fault_params={"huge-image": {"content_length": content_length}}
    )
    plan = planned(shop, tmp_path, "product-images", max_pages=1, max_download_mib=4)
    (result,), peak = with_peak_memory(lambda: run(plan))

    ((step, kind, message),) = failed(result)
    assert (step, kind) == ("images on product page 1", "image_broken")
    assert "/images/speckled-mug/2-480.webp: is " in message
    if content_length:
        assert "is 50 MiB, over the download limit of 4 MiB (images.max_download_mib)" in message
        assert message.endswith("not downloaded")
    else:
        assert "is larger than 4 MiB (no Content-Length said how large)" in message
        assert message.endswith("stopped reading there")
    # the other two photos on the page were judged, and intact
    assert result.counts == {"images_checked": 3, "images_broken": 1}
    # Everything this process allocated in the whole run: a fraction of the image's size.
    print(f"peak Python memory during the run: {peak / MIB:.1f} MiB")
    assert peak < 30 * MIB


# --- a decompression bomb ----------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # as in production
def test_decompression_bomb_is_refused_undecoded_and_the_browser_lives_on(
    start_shop: StartShop, tmp_path: Path
) -> None:
    shop = start_shop(faults=["decompression-bomb"])
    images = planned(shop, tmp_path, "product-images", step_timeout=8, max_pages=2)
    first_page = planned(shop, tmp_path, "product-images", max_pages=1)
    (bombed, after), peak = with_peak_memory(lambda: run(images, first_page))

    ((step, kind, message),) = failed(bombed)
    assert (step, kind) == ("images on product page 2", "image_broken")
    assert message.startswith("1 of 3 images broken on /products/stoneware-bowl: ")
    assert message.endswith(
        "/images/stoneware-bowl/2-480.webp: is 10000x10000 pixels (100 megapixels): too many "
        "pixels to decode safely (limit 64 megapixels); refused undecoded, a possible "
        "decompression bomb"
    )
    assert peak < 50 * MIB  # 100 megapixels decoded would be 100 MiB at the least
    # the same browser, right after, still loads a product page and checks its photos
    assert after.ok, failed(after)
    assert after.counts == {"images_checked": 3, "images_broken": 0}


# --- an endless redirect loop --------------------------------------------------------------


def test_redirect_loop_is_an_http_error_naming_the_loop(
    start_shop: StartShop, tmp_path: Path
) -> None:
    shop = start_shop(faults=["redirect-loop"])
    (result,) = run(planned(shop, tmp_path, "product-to-checkout", step_timeout=10))
    ((step, kind, message),) = failed(result)
    assert (step, kind) == ("open product page", "http_error")
    assert message == (
        "the product page (/products/speckled-mug) redirects endlessly: /products/speckled-mug "
        "-> /products/speckled-mug?looped=1 -> /products/speckled-mug -> ... "
        "(net::ERR_TOO_MANY_REDIRECTS: the browser gives up after 20 redirects)"
    )
    # the browser gave up by counting, not by waiting out the step
    assert result.steps[0].duration_seconds < 10 / 2


# --- a page that never finishes loading -----------------------------------------------------


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone while we looked
            parent = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def renderers() -> int:
    """Chromium renderer processes started by this test process's browser."""
    count = 0
    for pid in _descendants(os.getpid()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        count += b"--type=renderer" in command and b"--top-chrome-webui" not in command
    return count


def request_threads() -> int:
    """Demo-shop request threads still serving (an endless page holds one while it streams)."""
    return sum("process_request_thread" in t.name for t in threading.enumerate())


def settle(read: Callable[[], int], target: int, seconds: float = 10.0) -> int:
    """``read()`` once it is at most ``target``, or its last value after ``seconds``."""
    deadline = time.monotonic() + seconds
    value = read()
    while value > target and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


def test_endless_page_times_out_and_leaves_no_process_or_stream_behind(
    start_shop: StartShop, tmp_path: Path
) -> None:
    shop = start_shop(fault_params={"endless-page": {"interval_seconds": 0.2}})
    warm_up = planned(shop, tmp_path, "product-images", max_pages=1)
    plan = planned(shop, tmp_path, "product-to-checkout", step_timeout=3)
    seen: dict[str, int] = {}

    def warm(browser: Browser) -> None:  # after a first journey: every process the browser keeps
        seen["renderers before"] = settle(renderers, 0, seconds=2)
        seen["threads before"] = settle(request_threads, 0, seconds=2)
        shop.faults.enable("endless-page")

    def during(step: StepResult) -> None:  # the failed step is recorded before the context closes
        if not step.ok:
            seen["renderers during"] = renderers()
            seen["threads during"] = request_threads()

    def after(browser: Browser) -> None:
        seen["contexts after"] = len(browser.contexts)
        seen["renderers after"] = settle(renderers, seen.get("renderers before", 0))
        seen["threads after"] = settle(request_threads, seen.get("threads before", 0))

    calls = iter([warm, after])

    def between(browser: Browser) -> None:
        next(calls)(browser)

    first, hung = run(warm_up, plan, between=between, on_step=during)

    assert first.ok, failed(first)
    ((step, kind, message),) = failed(hung)
    assert (step, kind) == ("open product page", "timeout")
    assert message == (
        "the product page (/products/speckled-mug) began (HTTP 200) but never finished "
        "loading: this step did not finish within its 3s timeout"
    )
    print(seen)
    assert seen["contexts after"] == 0  # the runner closed the journey's browser context
    assert seen["renderers during"] > seen["renderers before"]
    assert seen["renderers after"] <= seen["renderers before"]  # no orphan renderer
    assert seen["threads during"] > seen["threads before"]  # the page was still streaming ...
    assert seen["threads after"] <= seen["threads before"]  # ... and stopped when it closed
