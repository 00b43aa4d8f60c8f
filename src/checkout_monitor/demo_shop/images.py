"""Product photos rendered with Pillow: deterministic, in memory, encoded once on first use.

URL scheme: /images/<slug>/<index>-<width>.<ext>, e.g. /images/speckled-mug/2-960.webp.
"""

from __future__ import annotations

import functools
import io
import random
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw

from .catalogue import Product, find_product

WIDTHS: tuple[int, ...] = (480, 960)
# Which encodings each of a product's three images is offered in.
IMAGE_FORMATS: dict[int, tuple[str, ...]] = {1: ("jpg",), 2: ("webp", "png"), 3: ("jpg",)}
CONTENT_TYPES: dict[str, str] = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_PIL_FORMATS: dict[str, str] = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
_NAME = re.compile(r"^(?P<index>[1-9])-(?P<width>\d{2,4})\.(?P<ext>jpg|png|webp)$")

Colour = tuple[int, int, int]
Point = Callable[[float, float], tuple[float, float]]


@dataclass(frozen=True)
class ImageRequest:
    """A parsed, valid image address."""

    slug: str
    index: int
    width: int
    ext: str

    @property
    def content_type(self) -> str:
        """The MIME type the bytes are encoded in."""
        return CONTENT_TYPES[self.ext]


def image_url(slug: str, index: int, width: int, ext: str) -> str:
    """The path of one image variant."""
    return f"/images/{slug}/{index}-{width}.{ext}"


def parse_image_name(slug: str, name: str) -> ImageRequest | None:
    """Turn '/images/<slug>/<name>' into a request, or None when no such image exists."""
    match = _NAME.match(name)
    if match is None or find_product(slug) is None:
        return None
    index, width, ext = int(match["index"]), int(match["width"]), match["ext"]
    if width not in WIDTHS or ext not in IMAGE_FORMATS.get(index, ()):
        return None
    return ImageRequest(slug, index, width, ext)


def _shade(colour: Colour, factor: float) -> Colour:
    r, g, b = (max(0, min(255, round(c * factor))) for c in colour)
    return (r, g, b)


def _backdrop(product: Product, index: int, size: tuple[int, int]) -> Image.Image:
    top, bottom = product.backdrop
    if index == 3:
        mask = Image.radial_gradient("L").resize(size)
    else:
        gradient = Image.linear_gradient("L")
        # Image 2 is lit from the side: the same gradient turned before scaling.
        mask = (gradient.rotate(90) if index == 2 else gradient).resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _draw_mug(draw: ImageDraw.ImageDraw, p: Point, colour: Colour, rng: random.Random) -> None:
    dark = _shade(colour, 0.7)
    draw.ellipse(
        [p(55, -45), p(135, 55)], outline=dark, width=max(4, round(p(18, 0)[0] - p(0, 0)[0]))
    )
    draw.rounded_rectangle([p(-75, -85), p(75, 95)], radius=18, fill=colour, outline=dark, width=3)
    draw.ellipse([p(-75, -97), p(75, -73)], fill=_shade(colour, 0.55))
    for _ in range(60):
        x, y = rng.uniform(-68, 68), rng.uniform(-70, 88)
        draw.ellipse([p(x, y), p(x + 3, y + 3)], fill=_shade(colour, 0.45))


def _draw_bowl(draw: ImageDraw.ImageDraw, p: Point, colour: Colour, rng: random.Random) -> None:
    draw.chord([p(-150, -90), p(150, 110)], 0, 180, fill=colour, outline=_shade(colour, 0.6))
    draw.ellipse([p(-150, -18), p(150, 22)], fill=_shade(colour, 0.55))
    draw.rectangle([p(-45, 108), p(45, 118)], fill=(170, 150, 128))
    for _ in range(25):
        x = rng.uniform(-110, 110)
        draw.line([p(x, 25), p(x * 0.8, 90)], fill=_shade(colour, 1.25), width=2)


def _draw_leaf(draw: ImageDraw.ImageDraw, p: Point, colour: Colour, rng: random.Random) -> None:
    for dx in (-70, 70):
        draw.arc([p(dx - 15, -120), p(dx + 15, -80)], 180, 360, fill=colour, width=3)
        draw.line([p(dx + 15, -100), p(dx, -70)], fill=colour, width=3)
        leaf = [p(dx, -70), p(dx + 32, -10), p(dx + 22, 60), p(dx, 100), p(dx - 22, 60)]
        draw.polygon([*leaf, p(dx - 32, -10)], fill=colour, outline=_shade(colour, 0.6))
        draw.line([p(dx, -65), p(dx, 95)], fill=_shade(colour, 0.7), width=2)
        for _ in range(20):
            y = rng.uniform(-40, 80)
            draw.point([p(dx + rng.uniform(-14, 14), y)], fill=_shade(colour, 1.2))


def _draw_wallet(draw: ImageDraw.ImageDraw, p: Point, colour: Colour, rng: random.Random) -> None:
    dark = _shade(colour, 0.65)
    draw.rounded_rectangle(
        [p(-125, -80), p(125, 80)], radius=14, fill=colour, outline=dark, width=3
    )
    draw.rectangle([p(-125, -20), p(125, 80)], fill=_shade(colour, 0.9))
    for stitch in range(-112, 113, 10):
        draw.line([p(stitch, 68), p(stitch + 5, 68)], fill=(238, 226, 200), width=2)
        draw.line([p(stitch, -68), p(stitch + 5, -68)], fill=(238, 226, 200), width=2)
    for _ in range(40):
        x, y = rng.uniform(-118, 118), rng.uniform(-74, 74)
        draw.point([p(x, y)], fill=dark)


def _draw_apron(draw: ImageDraw.ImageDraw, p: Point, colour: Colour, rng: random.Random) -> None:
    dark = _shade(colour, 0.7)
    draw.line([p(-40, -120), p(40, -160)], fill=dark, width=5)
    draw.line([p(40, -120), p(-40, -160)], fill=dark, width=5)
    body = [p(-40, -120), p(40, -120), p(45, -40), p(110, -30), p(120, 140), p(-120, 140)]
    draw.polygon([*body, p(-110, -30), p(-45, -40)], fill=colour, outline=dark)
    draw.rectangle([p(-85, 30), p(-15, 90)], outline=dark, width=3)
    draw.rectangle([p(15, 30), p(85, 90)], outline=dark, width=3)
    for _ in range(30):
        y = rng.uniform(-30, 135)
        draw.line([p(-105, y), p(105, y)], fill=_shade(colour, 1.08), width=1)


def _draw_board(draw: ImageDraw.ImageDraw, p: Point, colour: Colour, rng: random.Random) -> None:
    dark = _shade(colour, 0.7)
    draw.rounded_rectangle([p(150, -24), p(205, 24)], radius=12, fill=colour, outline=dark)
    draw.rounded_rectangle(
        [p(-180, -70), p(155, 70)], radius=26, fill=colour, outline=dark, width=3
    )
    draw.ellipse([p(178, -8), p(194, 8)], fill=(60, 60, 56))
    for _ in range(14):
        y = rng.uniform(-60, 60)
        draw.arc([p(-170, y - 8), p(140, y + 8)], 0, 180, fill=dark, width=2)


_SHAPES: dict[str, Callable[[ImageDraw.ImageDraw, Point, Colour, random.Random], None]] = {
    "mug": _draw_mug,
    "bowl": _draw_bowl,
    "leaf": _draw_leaf,
    "wallet": _draw_wallet,
    "apron": _draw_apron,
    "board": _draw_board,
}
# Per image index: where the object sits and how large, so the three photos differ.
_FRAMING: dict[int, tuple[float, float, float]] = {
    1: (0.5, 0.55, 1.0),
    2: (0.42, 0.52, 0.8),
    3: (0.55, 0.5, 1.45),
}


def _render(product: Product, index: int, width: int) -> Image.Image:
    size = (width, width * 3 // 4)
    image = _backdrop(product, index, size)
    cx, cy, zoom = _FRAMING[index]
    scale = zoom * width / 480

    def point(x: float, y: float) -> tuple[float, float]:
        return (size[0] * cx + x * scale, size[1] * cy + y * scale)

    rng = random.Random(f"{product.slug}/{index}")
    draw = ImageDraw.Draw(image)
    draw.ellipse([point(-170, 105), point(170, 140)], fill=_shade(product.backdrop[1], 0.75))
    _SHAPES[product.shape](draw, point, product.colour, rng)
    # A little grain so the picture is a photo-like texture, not flat colour.
    grain_size = (size[0] // 2, size[1] // 2)
    grain = Image.frombytes("L", grain_size, rng.randbytes(grain_size[0] * grain_size[1]))
    grain_rgb = Image.merge("RGB", (grain, grain, grain)).resize(size)
    return Image.blend(image, grain_rgb, 0.07)


def _encode(image: Image.Image, ext: str) -> bytes:
    buffer = io.BytesIO()
    if ext == "jpg":
        image.save(buffer, "JPEG", quality=85)
    elif ext == "webp":
        image.save(buffer, "WEBP", quality=80)
    else:
        image.save(buffer, "PNG")
    return buffer.getvalue()


@functools.cache
def image_bytes(slug: str, index: int, width: int, ext: str) -> bytes:
    """The encoded image, rendered on first request and kept for the process lifetime."""
    product = find_product(slug)
    if product is None:
        raise KeyError(slug)
    return _encode(_render(product, index, width), ext)


@functools.cache
def placeholder_bytes(ext: str) -> bytes:
    """A valid 1x1 pixel image in the given encoding (what a broken CDN transform returns)."""
    return _encode(Image.new("RGB", (1, 1), (255, 255, 255)), ext)


def truncated(data: bytes) -> bytes:
    """The first ~40% of an encoded image, which no decoder can finish."""
    return data[: len(data) * 2 // 5]


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


@functools.cache
def decompression_bomb_jpeg(width: int = 10_000, height: int = 10_000) -> bytes:
    """A valid baseline JPEG of one flat grey, written by hand so the shop never holds its
    pixels: each 8x8 block costs 2 bits, so 10000x10000 pixels fit in 382 KiB."""
    quantisation = _jpeg_segment(0xDB, bytes([0]) + bytes([1] * 64))
    frame = _jpeg_segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + bytes([1, 0x11, 0]))
    # One symbol per Huffman table, coded as the single bit 0: "DC unchanged", "end of block".
    one_code = bytes([1] + [0] * 15) + bytes([0])
    huffman = _jpeg_segment(0xC4, bytes([0x00]) + one_code + bytes([0x10]) + one_code)
    scan = _jpeg_segment(0xDA, bytes([1, 1, 0x00, 0, 63, 0]))
    bits = -(-width // 8) * -(-height // 8) * 2
    data = bytearray(-(-bits // 8))
    if bits % 8:  # the last byte is padded with 1 bits, as the standard asks
        data[-1] = (1 << (8 - bits % 8)) - 1
    return b"\xff\xd8" + quantisation + frame + huffman + scan + bytes(data) + b"\xff\xd9"
