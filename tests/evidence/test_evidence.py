"""Evidence of failed attempts: what is kept, what is not, retention, and that no secret
ever reaches the artifacts folder (the canary test)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote_plus

import pytest
import yaml
from PIL import Image

from checkout_monitor.config.loader import builtin_profiles, load_config
from checkout_monitor.config.model import LoadedConfig
from checkout_monitor.config.storefront_profile import StorefrontProfile
from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.evidence.artifacts import ArtifactStore
from checkout_monitor.evidence.recorder import MASK_COLOR
from checkout_monitor.evidence.redaction import PLACEHOLDER, EvidenceRedactor
from checkout_monitor.reports.console import ConsoleReporter
from checkout_monitor.results import JourneyResult
from checkout_monitor.run.monitors_loader import default_monitors_dir, load_monitors
from checkout_monitor.run.plan import plan_journeys
from checkout_monitor.run.smoke import run_smoke
from support.cli_support import write_shop_config
from support.secret_search import contents, found

StartShop = Callable[..., DemoShop]
MAGENTA = tuple(int(MASK_COLOR[i : i + 2], 16) for i in (1, 3, 5))


def _config(
    tmp_path: Path,
    shop: DemoShop,
    journeys: list[str],
    *,
    artifacts: dict[str, object] | None = None,
    storefront: dict[str, object] | None = None,
    retries: int = 0,
    step_timeout: str = "5s",
    environ: dict[str, str] | None = None,
) -> LoadedConfig:
    path = write_shop_config(
        tmp_path / "config.yaml",
        shop,
        storefront=storefront,
        defaults={"step_timeout": step_timeout, "retries": retries},
    )
    document = yaml.safe_load(path.read_text())
    document["journeys"] = [{"journey": name, "storefront": "shop"} for name in journeys]
    document["artifacts"] = {"dir": str(tmp_path / "artifacts"), **(artifacts or {})}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return load_config(path, {**os.environ, **(environ or {})})


def _smoke(loaded: LoadedConfig, store: ArtifactStore | None) -> list[JourneyResult]:
    planned = plan_journeys(loaded, load_monitors(default_monitors_dir()))
    reporter = ConsoleReporter(io.StringIO())
    return asyncio.run(run_smoke(loaded.config, planned, reporter, store))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _failed(result: JourneyResult) -> list[tuple[str, str | None]]:
    return [
        (s.name, s.failure_kind.value if s.failure_kind else None) for s in result.steps if not s.ok
    ]


# --- with the real browser ---------------------------------------------------------------


@pytest.mark.browser
def test_failed_attempts_leave_evidence_and_the_retry_a_trace(
    start_shop: StartShop, tmp_path: Path
) -> None:
    shop = start_shop(faults=["payment-declines"])
    loaded = _config(tmp_path, shop, ["product-to-checkout"], retries=1)
    store = ArtifactStore.from_config(loaded)
    (result,) = _smoke(loaded, store)

    assert _failed(result) == [("pay", "payment_declined")]
    (first,) = result.earlier_attempts
    assert store.last_run is not None
    assert store.last_run.created
    for attempt in (first, result):
        evidence = attempt.evidence
        assert evidence is not None
        assert evidence.problems == ()
        assert (
            evidence.folder
            == f"{store.last_run.name}/product-to-checkout/attempt-{attempt.attempt}"
        )
        assert evidence.screenshot and evidence.html
        with Image.open(store.root / evidence.screenshot) as image:
            image.load()
            assert image.format == "PNG"
            assert image.width >= 320
        html = (store.root / evidence.html).read_text()
        assert 'id="payment-form"' in html
        assert "declined" in html
        # the declined payment is an HTTP error the browser saw
        assert any(r.status == 402 and r.method == "POST" for r in evidence.failed_requests)
        folder = store.root / evidence.folder
        kept = json.loads((folder / "requests.json").read_text())
        assert {"url", "method", "status", "error"} <= set(kept[0])
    assert first.evidence is not None
    assert first.evidence.trace is None  # traces: retry, so only the retry is traced
    assert not (store.root / first.evidence.folder / "trace.zip").exists()
    assert result.evidence is not None
    assert result.evidence.trace == f"{result.evidence.folder}/trace.zip"
    with zipfile.ZipFile(store.root / result.evidence.trace) as trace:
        assert trace.testzip() is None
        names = trace.namelist()
        assert {"trace.trace", "trace.network"} <= set(names)
        events = [json.loads(line) for line in trace.read("trace.trace").splitlines() if line]
    assert events[0]["type"] == "context-options"
    assert any(e.get("type") == "frame-snapshot" for e in events)  # DOM snapshots are on
    assert not any(e.get("type") == "screencast-frame" for e in events)  # images are off


@pytest.mark.browser
def test_a_passing_journey_leaves_nothing(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop()
    loaded = _config(tmp_path, shop, ["product-to-checkout"], artifacts={"traces": "always"})
    store = ArtifactStore.from_config(loaded)
    (result,) = _smoke(loaded, store)
    assert result.ok, result.steps
    assert result.evidence is None
    assert store.last_run is not None
    assert not store.last_run.created
    assert not store.root.exists()


@pytest.mark.browser
def test_broken_image_urls_are_in_the_evidence(start_shop: StartShop, tmp_path: Path) -> None:
    shop = start_shop(faults=["broken-image"])
    loaded = _config(tmp_path, shop, ["product-images"])
    (result,) = _smoke(loaded, ArtifactStore.from_config(loaded))
    assert _failed(result)[0][1] == "image_broken"
    assert result.evidence is not None
    (broken,) = result.evidence.broken_images
    assert broken.startswith(shop.shop_url)
    assert broken in (result.failed_step.message if result.failed_step else "")
    assert any(r.status == 404 and r.url == broken for r in result.evidence.failed_requests)


@pytest.mark.browser
def test_an_unwritable_artifacts_folder_is_a_problem_not_a_failure(
    start_shop: StartShop, tmp_path: Path
) -> None:
    shop = start_shop(faults=["payment-declines"])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    loaded = _config(
        tmp_path,
        shop,
        ["product-to-checkout"],
        artifacts={"dir": str(blocker / "artifacts"), "traces": "always"},
    )
    (without,) = _smoke(loaded, None)
    (result,) = _smoke(loaded, ArtifactStore.from_config(loaded))

    assert without.evidence is None
    assert _failed(result) == _failed(without) == [("pay", "payment_declined")]
    assert [(s.name, s.status) for s in result.steps] == [(s.name, s.status) for s in without.steps]
    evidence = result.evidence
    assert evidence is not None
    assert (evidence.screenshot, evidence.html, evidence.trace) == (None, None, None)
    (problem,) = evidence.problems
    assert problem.startswith("nothing written: cannot create ")
    assert str(blocker) in problem
    assert evidence.failed_requests  # what was only in memory is still reported
    assert blocker.read_text() == "not a folder"


CANARIES = {
    "CANARY_TOKEN": "tok-Qx7vCanary91",
    "CANARY_CODE": "CANARYCODE77",
    "CANARY_NAME": "Zelda Canarybird",
    "CANARY_EMAIL": "canary.x7@example.com",
}
CARD = "4242 4242 4242 4242"
DECLINING = "4000000000000002"
CVC = "987"


@pytest.mark.browser
def test_canary_no_secret_reaches_any_artifact(start_shop: StartShop, tmp_path: Path) -> None:
    """Secrets typed into forms, sent as headers and posted as codes, with tracing on, and
    a journey failing at its last checkout step: no file under the artifacts folder, and no
    entry of any trace zip, holds one of them or the card."""
    shop = start_shop(
        faults=["payment-declines", "discount-engine-down"], admin_token=CANARIES["CANARY_TOKEN"]
    )
    auth = {"headers": {"Authorization": "Bearer ${CANARY_TOKEN}"}}
    loaded = _config(
        tmp_path,
        shop,
        ["payment-sandbox", "discount-codes"],
        artifacts={"traces": "always"},
        step_timeout="15s",  # a declined-card step is a whole checkout: room on a busy machine
        environ=CANARIES,
        storefront={
            "order_api": {"cancel": auth, "list": auth},
            "customer": {"full_name": "${CANARY_NAME}", "email": "${CANARY_EMAIL}"},
            "card": {"number": CARD, "cvc": CVC},
            "payment": {
                "health_url": f"{shop.sandbox_url}/health",
                "declining_cards": {"decline": DECLINING},
            },
            "discounts": {"valid": [], "must_reject": ["${CANARY_CODE}"]},
        },
    )
    store = ArtifactStore.from_config(loaded)
    payment, discounts = _smoke(loaded, store)

    # the secrets were used: the order API answered, the forms were filled, the code posted
    assert [s.name for s in payment.steps if s.ok][:2] == [
        "payment provider health",
        "decline card is declined",
    ], payment.steps
    assert _failed(payment) == [("approve card is charged", "payment_declined")]
    assert _failed(discounts) == [(f"refuse {CANARIES['CANARY_CODE']}", "http_error")]

    needles = {*CANARIES.values(), CARD, CARD.replace(" ", ""), DECLINING}
    needles |= {quote_plus(n) for n in needles}
    needles |= {f'"{CVC}"', f"={CVC}&", f'\\"{CVC}\\"'}
    kept = _files(store.root)
    assert {p.name for p in kept} >= {"screenshot.png", "page.html", "trace.zip", "console.txt"}
    assert not found(needles, kept)
    scrubbed = sum(data.count(PLACEHOLDER.encode()) for p in kept for _, data in contents(p))
    assert scrubbed > 10  # the secrets were there, and were replaced

    for result in (payment, discounts):
        evidence = result.evidence
        assert evidence is not None
        assert evidence.trace is not None
        text = json.dumps([evidence.console_errors, [r.url for r in evidence.failed_requests]])
        assert not [n for n in needles if n in text]

    # Masked in the screenshot, top to bottom: "Delivering to <name>", the card number,
    # expiry and CVC (one row), name on card, and the shop's "use card 4242 ..." line.
    assert payment.evidence is not None and payment.evidence.screenshot is not None
    assert len(_mask_bands(store.root / payment.evidence.screenshot)) == 5


def _mask_bands(screenshot: Path) -> list[tuple[int, int]]:
    """Runs of pixel rows holding at least 50 pixels of the mask colour."""
    with Image.open(screenshot) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        pixels = rgb.load()
        assert pixels is not None
        rows = [sum(pixels[x, y] == MAGENTA for x in range(width)) >= 50 for y in range(height)]
    bands: list[tuple[int, int]] = []
    for y, masked in enumerate(rows):
        if masked and bands and bands[-1][1] == y - 1:
            bands[-1] = (bands[-1][0], y)
        elif masked:
            bands.append((y, y))
    return bands


# --- retention, without a browser --------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 15, 4, 5, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _run_with_evidence(store: ArtifactStore, size: int) -> str:
    run = store.start_run()
    folder = run.attempt_folder("product-to-checkout", 1)
    (folder / "page.html").write_bytes(b"x" * size)
    run.finish()
    return run.name


def _runs(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir())


def test_retention_keeps_the_newest_runs(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, keep_runs=3, max_bytes=10**9, now=_Clock())
    (tmp_path / "notes").mkdir()  # not a run folder: never touched
    names = [_run_with_evidence(store, 10) for _ in range(5)]
    assert names == sorted(names)
    assert names[0].startswith("2026-11-23T15-04-06Z-")
    assert _runs(tmp_path) == sorted([*names[-3:], "notes"])


def test_retention_stays_under_the_size_cap(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, keep_runs=100, max_bytes=2500, now=_Clock())
    names = [_run_with_evidence(store, 1000) for _ in range(4)]
    assert _runs(tmp_path) == names[-2:]


def test_retention_never_deletes_a_run_in_progress(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, keep_runs=1, max_bytes=10**9, now=_Clock())
    running = store.start_run()
    running.attempt_folder("product-images", 1)
    finished = _run_with_evidence(store, 10)
    assert _runs(tmp_path) == [running.name, finished]
    running.finish()
    assert _runs(tmp_path) == [finished]


def test_retention_of_a_missing_folder_is_nothing_to_do(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "never-made", keep_runs=1, max_bytes=1)
    assert store.prune() == []
    store.start_run().finish()
    assert not (tmp_path / "never-made").exists()


# --- redaction, table-driven -----------------------------------------------------------

REDACTOR = EvidenceRedactor.for_profiles(
    [
        StorefrontProfile.model_validate(
            {**builtin_profiles()["demo"], "card": {"number": "378282246310005", "cvc": "123"}}
        )
    ],
    ["s3cret-Token", "a b@c.example", "4242424242424242"],
)
SCRUBBED: list[tuple[str, str]] = [
    ("Bearer s3cret-Token", "Bearer ••••"),
    ("/api?token=s3cret-Token&x=1", "/api?token=••••&x=1"),
    ("email=a+b%40c.example&n=1", "email=••••&n=1"),
    ("to a%20b%40c.example", "to ••••"),
    ('<input value="123">', '<input value="••••">'),
    ('{"value":"123"}', '{"value":"••••"}'),
    ('[\\"123\\"]', '[\\"••••\\"]'),
    ("card_cvc=123&card_name=x", "card_cvc=••••&card_name=x"),
    ("cvc=123", "cvc=••••"),
    ('{"cvc":123}', '{"cvc":••••}'),  # a JSON number
    ('{"body":"a=1&card_cvc=123"}', '{"body":"a=1&card_cvc=••••"}'),  # a form in JSON
    (
        'name="card_cvc"\r\n\r\n123\r\n--boundary',
        'name="card_cvc"\r\n\r\n••••\r\n--boundary',
    ),  # a multipart form part
    ("amex 3782 822463 10005", "amex ••••"),
    ("total 123.00, item 1234, id=1234", "total 123.00, item 1234, id=1234"),  # not the code
    ("tok", "tok"),
]


@pytest.mark.parametrize(("text", "expected"), SCRUBBED)
def test_redaction(text: str, expected: str) -> None:
    assert REDACTOR.text(text) == expected


def test_card_numbers_are_scrubbed_in_every_grouping() -> None:
    demo = builtin_profiles()["demo"]
    profile = StorefrontProfile.model_validate({**demo, "card": {"number": CARD}})
    redactor = EvidenceRedactor.for_profile(profile, [])
    for form in ("4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242"):
        assert redactor.text(f"card {form}!") == "card ••••!"
    assert redactor.text("4000000000000002") == "••••"  # declining cards too


def test_zip_entries_are_scrubbed_text_and_binary(tmp_path: Path) -> None:
    source, target = tmp_path / "raw.zip", tmp_path / "clean.zip"
    binary = b"\x89PNG\x00\xff s3cret-Token \xfe"
    with zipfile.ZipFile(source, "w") as raw:
        raw.writestr("trace.trace", '{"params":{"value":"s3cret-Token"}}\n')
        raw.writestr("resources/abc.dat", binary)
    REDACTOR.zip_file(source, target)
    with zipfile.ZipFile(target) as clean:
        assert clean.read("trace.trace") == '{"params":{"value":"••••"}}\n'.encode()
        assert clean.read("resources/abc.dat") == binary.replace(b"s3cret-Token", "••••".encode())
