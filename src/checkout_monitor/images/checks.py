"""Is one product image intact? Judged from its HTTP answer, its bytes and the browser's view.

No Playwright here: the page-object collects what the browser saw and the bytes; this module
decides, so the rules are tested on real image bytes without a browser.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageStat, UnidentifiedImageError

# Decompression bombs (a small file of enormous size: 382 KiB can hold 10000x10000 pixels,
# 300 MB decoded) are refused above this many pixels, about 8k x 8k, before any decoding.
MAX_PIXELS = 64_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own check, for anything opened elsewhere
# judge_image checks the pixel count itself and names the size; Pillow's warning about the
# same image would only be noise on the console.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
_PILLOW_PIXELS = re.compile(r"\((\d+) pixels\)")


class TooManyPixels(Exception):
    """An image too large to decode safely: said with its size, never decoded."""

    def __init__(self, pixels: int, size: tuple[int, int] | None = None) -> None:
        self.pixels = pixels
        self.size = size
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        said = f"{self.pixels / 1e6:.0f} megapixels"
        if self.size is not None:
            said = f"{self.size[0]}x{self.size[1]} pixels ({said})"
        return (
            f"{said}: too many pixels to decode safely (limit {MAX_PIXELS / 1e6:.0f} "
            "megapixels); refused undecoded, a possible decompression bomb"
        )


@dataclass(frozen=True)
class ImageRules:
    min_width: int = 100
    min_height: int = 100
    max_bytes: int | None = None  # larger images are a warning, not a failure
    max_download_bytes: int = 16 * 1024 * 1024  # larger ones are broken, never read in full
    require_alt: bool = True  # missing alt text is a warning, not a failure
    max_hash_distance: int = 10


@dataclass(frozen=True)
class SeenImage:
    """What the browser showed for one <img>: the URL it chose and how it rendered."""

    url: str
    natural_width: int
    natural_height: int
    alt: str | None


@dataclass(frozen=True)
class FetchedImage:
    status: int
    content_type: str
    body: bytes


@dataclass
class ImageVerdict:
    url: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dhash: str | None = None
    width: int = 0
    height: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def judge_image(
    seen: SeenImage,
    fetched: FetchedImage,
    rules: ImageRules,
    baseline_hash: str | None = None,
) -> ImageVerdict:
    """Every reason this image would look broken, wrong or costly to a shopper."""
    verdict = ImageVerdict(seen.url)
    if fetched.status != 200:
        verdict.problems.append(f"HTTP {fetched.status}")
        return verdict
    if not fetched.content_type.lower().startswith("image/"):
        verdict.problems.append(f"served as {fetched.content_type or 'no content type'}")
        return verdict
    try:
        image = _decode(fetched.body)
    except TooManyPixels as exc:
        verdict.problems.append(f"is {exc.reason}")
        return verdict
    except (OSError, ValueError) as exc:
        verdict.problems.append(f"does not decode ({_reason(exc)})")
        return verdict
    verdict.width, verdict.height = image.size
    if seen.natural_width <= 0:
        verdict.problems.append("the browser could not display it (naturalWidth 0)")
    if image.width < rules.min_width or image.height < rules.min_height:
        verdict.problems.append(
            f"only {image.width}x{image.height} pixels "
            f"(at least {rules.min_width}x{rules.min_height} expected: a placeholder?)"
        )
    if _is_blank(image):
        verdict.problems.append("a blank single-colour image")
    verdict.dhash = dhash(image)
    if baseline_hash is not None:
        distance = hash_distance(verdict.dhash, baseline_hash)
        if distance > rules.max_hash_distance:
            verdict.problems.append(
                f"looks different from the known-good photo (distance {distance} > "
                f"{rules.max_hash_distance}): a wrong photo?"
            )
    if rules.max_bytes is not None and len(fetched.body) > rules.max_bytes:
        verdict.warnings.append(
            f"{len(fetched.body) // 1024} KiB, over the budget of {rules.max_bytes // 1024} KiB"
        )
    if rules.require_alt and not (seen.alt or "").strip():
        verdict.warnings.append("no alt text")
    return verdict


def _decode(body: bytes) -> Image.Image:
    """The decoded image; TooManyPixels, judged from the header alone, for a bomb."""
    try:
        image = Image.open(io.BytesIO(body))  # reads the header: the size, no pixels yet
    except Image.DecompressionBombError as exc:  # Pillow refuses twice the limit itself
        counted = _PILLOW_PIXELS.search(str(exc))
        raise TooManyPixels(int(counted[1]) if counted else 2 * MAX_PIXELS) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise TooManyPixels(width * height, (width, height))
    image.load()  # decodes every byte: a truncated file raises here
    return image


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if "truncated" in text:
        return "the file is truncated"
    if isinstance(exc, UnidentifiedImageError):
        return "not an image format Pillow knows"
    return f"corrupt or truncated data: {text.splitlines()[0][:100]}"


def _is_blank(image: Image.Image) -> bool:
    extrema = ImageStat.Stat(image.convert("RGB")).extrema
    return all(high - low <= 2 for low, high in extrema)


def dhash(image: Image.Image, size: int = 8) -> str:
    """A 64-bit difference hash: near-identical photos differ in few bits, others in many."""
    small = image.convert("L").resize((size + 1, size), Image.Resampling.LANCZOS)
    pixels = small.tobytes()  # mode "L": one byte per pixel
    bits = 0
    for row in range(size):
        for col in range(size):
            left = pixels[row * (size + 1) + col]
            right = pixels[row * (size + 1) + col + 1]
            bits = (bits << 1) | (left > right)
    return f"{bits:0{size * size // 4}x}"


def hash_distance(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")
