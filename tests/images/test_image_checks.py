"""The image rules on real encoded bytes (the demo shop's renderer), one case per rule."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from checkout_monitor.demo_shop import DemoShop
from checkout_monitor.demo_shop.images import (
    decompression_bomb_jpeg,
    image_bytes,
    placeholder_bytes,
    truncated,
)
from checkout_monitor.images.checks import (
    FetchedImage,
    ImageRules,
    SeenImage,
    dhash,
    hash_distance,
    judge_image,
)
from support.cli_support import run_cli, write_shop_config

MUG = image_bytes("speckled-mug", 1, 480, "jpg")
MUG_WEBP = image_bytes("speckled-mug", 2, 480, "webp")
BOWL = image_bytes("stoneware-bowl", 1, 480, "jpg")
RULES = ImageRules(min_width=100, min_height=100, max_bytes=None)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _seen(width: int = 480, alt: str | None = "A mug") -> SeenImage:
    return SeenImage("http://127.0.0.1/images/x.jpg", width, width * 3 // 4, alt)


CASES = [
    # (case, browser saw, status, content type, body, problem expected in the verdict)
    ("intact jpeg", _seen(), 200, "image/jpeg", MUG, None),
    ("intact webp", _seen(), 200, "image/webp", MUG_WEBP, None),
    ("missing", _seen(0), 404, "text/html", b"<h1>Not found</h1>", "HTTP 404"),
    ("html as image", _seen(0), 200, "text/html", b"<h1>Oops</h1>", "served as text/html"),
    ("truncated jpeg", _seen(0), 200, "image/jpeg", truncated(MUG), "does not decode"),
    ("truncated webp", _seen(0), 200, "image/webp", truncated(MUG_WEBP), "does not decode"),
    ("not an image", _seen(0), 200, "image/png", b"GIF89a-nope", "does not decode"),
    ("1x1 placeholder", _seen(1), 200, "image/png", placeholder_bytes("png"), "only 1x1 pixels"),
    (
        "blank",
        _seen(),
        200,
        "image/png",
        _png(Image.new("RGB", (400, 300), (240, 240, 240))),
        "blank single-colour",
    ),
    ("not displayed", _seen(0), 200, "image/jpeg", MUG, "naturalWidth 0"),
]


@pytest.mark.parametrize(
    ("seen", "status", "content_type", "body", "problem"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_rules(
    seen: SeenImage, status: int, content_type: str, body: bytes, problem: str | None
) -> None:
    verdict = judge_image(seen, FetchedImage(status, content_type, body), RULES)
    if problem is None:
        assert verdict.ok, verdict.problems
        assert (verdict.width, verdict.height) == (480, 360)
    else:
        assert not verdict.ok
        assert any(problem in p for p in verdict.problems), verdict.problems


def test_warnings_do_not_fail() -> None:
    rules = ImageRules(max_bytes=1024)
    verdict = judge_image(_seen(alt=""), FetchedImage(200, "image/jpeg", MUG), rules)
    assert verdict.ok
    assert verdict.warnings[0].endswith("over the budget of 1 KiB")
    assert verdict.warnings[1] == "no alt text"


def test_wrong_photo_is_caught_by_the_baseline() -> None:
    mug_hash = dhash(Image.open(io.BytesIO(MUG)))
    same = judge_image(_seen(), FetchedImage(200, "image/jpeg", MUG), RULES, mug_hash)
    swapped = judge_image(_seen(), FetchedImage(200, "image/jpeg", BOWL), RULES, mug_hash)
    assert same.ok
    assert not swapped.ok
    assert "looks different from the known-good photo" in swapped.problems[0]


def test_hash_survives_resizing_and_recompression() -> None:
    big = Image.open(io.BytesIO(image_bytes("speckled-mug", 1, 960, "jpg")))
    small = Image.open(io.BytesIO(MUG))
    assert hash_distance(dhash(big), dhash(small)) <= 4
    other = Image.open(io.BytesIO(BOWL))
    assert hash_distance(dhash(big), dhash(other)) > 10


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # as in production
def test_decompression_bomb_is_refused() -> None:
    bomb = _png(Image.new("1", (9000, 9000)))
    verdict = judge_image(_seen(), FetchedImage(200, "image/png", bomb), RULES)
    assert verdict.problems == [
        "is 9000x9000 pixels (81 megapixels): too many pixels to decode safely (limit 64 "
        "megapixels); refused undecoded, a possible decompression bomb"
    ]


def test_a_bomb_past_pillows_own_limit_is_refused_by_its_pixel_count() -> None:
    bomb = decompression_bomb_jpeg(12_000, 12_000)  # over twice the limit: Pillow refuses it
    verdict = judge_image(_seen(), FetchedImage(200, "image/jpeg", bomb), RULES)
    assert verdict.problems == [
        "is 144 megapixels: too many pixels to decode safely (limit 64 megapixels); refused "
        "undecoded, a possible decompression bomb"
    ]


@pytest.mark.browser
def test_baseline_recorded_then_a_swapped_photo_is_caught(
    start_shop: Callable[..., DemoShop], tmp_path: Path
) -> None:
    shop = start_shop()
    config = write_shop_config(
        tmp_path / "c.yaml",
        shop,
        storefront={
            "images": {
                "listing": "/",
                "product_links": "a.product-card",
                "max_pages": 2,
                "baseline": "baseline.json",
            }
        },
        journey={"journey": "product-images"},
    )
    recorded = run_cli("checkout-monitor", "images", "baseline", "--config", str(config))
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert "recorded 6 images of storefront 'shop'" in recorded.stdout
    baseline = json.loads((tmp_path / "baseline.json").read_text())
    assert set(baseline["images"]) >= {"/images/speckled-mug/1-480.jpg"}

    assert run_cli("run-smoke", "--config", str(config)).returncode == 0

    # the shop now shows the bowl's photo where the mug's should be
    images = baseline["images"]
    bowl = images["/images/stoneware-bowl/1-480.jpg"]["dhash"]
    images["/images/speckled-mug/1-480.jpg"]["dhash"] = bowl
    (tmp_path / "baseline.json").write_text(json.dumps(baseline))
    result = run_cli("run-smoke", "--config", str(config))
    assert result.returncode == 1
    assert "images on product page 1" in result.stdout
    assert "speckled-mug/1-480.jpg: looks different from the known-good photo" in result.stdout


def test_baseline_needs_a_place_to_write() -> None:
    result = run_cli("checkout-monitor", "images", "baseline", "--demo")
    assert result.returncode == 2
    assert "say where to write the baseline with --output PATH" in result.stderr
