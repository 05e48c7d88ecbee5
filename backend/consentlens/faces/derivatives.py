"""Images that leave the server: rendered from a policy verdict, heads covered beyond recovery,
no metadata. Nothing else may produce an image for a viewer.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from consentlens.consent.policy import PhotoVerdict, VerdictAction

Box = tuple[int, int, int, int]  # (x, y, w, h) in pixels of the oriented original

SIZES = {"thumb": 400, "display": 1600}
# Bump when the rendering changes, so cached files of the old rendering are never served.
RENDER_VERSION = 2
JPEG_QUALITY = 85


class RenderRefused(RuntimeError):
    """The verdict cannot be rendered safely (e.g. a face to cover has no known position)."""


@dataclass(frozen=True, slots=True)
class HeadMargins:
    """How far beyond the detector's box a cover reaches, as fractions of the box size.

    The box runs from the eyebrows to the chin: hair, forehead, ears and the jaw line identify a
    child as well, so the cover reaches well past it on every side. The margins were first set
    on dlib's HOG boxes (0.45, 0.9, 0.45); CenterFace's squared boxes are up to 13% smaller than
    HOG's on the same face, so they grew until, on every shared photo, the cover of each face
    both detectors find hides at least 95% of what the HOG cover hid (`test_detector.py`).
    """

    side: float = 0.6
    above: float = 1.1
    below: float = 0.6


def head_region(*, box: Box, image_size: tuple[int, int], margins: HeadMargins) -> Box:
    """The region a cover must hide for a detected face, clipped to the image."""
    x, y, w, h = box
    width, height = image_size
    left = max(0, int(x - margins.side * w))
    top = max(0, int(y - margins.above * h))
    right = min(width, int(x + w + margins.side * w) + 1)
    bottom = min(height, int(y + h + margins.below * h) + 1)
    return left, top, max(0, right - left), max(0, bottom - top)


def cover_heads(
    *, image: Image.Image, boxes: list[Box], margins: HeadMargins | None = None, seed: int = 0
) -> Image.Image:
    """A copy with each head replaced by flat grey and random noise.

    Blurring or pixelating keeps information that models can undo; here no pixel of the covered
    region depends on the original, so there is nothing to recover.
    """
    margins = margins or HeadMargins()
    covered = image.convert("RGB").copy()
    rng = np.random.default_rng(seed)
    for box in boxes:
        left, top, w, h = head_region(box=box, image_size=covered.size, margins=margins)
        if w == 0 or h == 0:
            continue
        noise = rng.integers(96, 160, size=(h, w, 3), dtype=np.uint8)
        patch = Image.fromarray(noise, "RGB")
        # A rounded mask reads as "a hidden face" rather than a glitch, and still covers the box.
        mask = Image.new("L", (w, h), 0)
        ImageDraw.Draw(mask).rounded_rectangle(
            (0, 0, w - 1, h - 1), radius=min(w, h) // 3, fill=255
        )
        covered.paste(patch, (left, top), mask)
    return covered


def _without_metadata(image: Image.Image) -> Image.Image:
    # A fresh image holds pixels only: no EXIF, GPS, XMP, ICC or comments can ride along.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    return clean


def render(
    *,
    original: Image.Image,
    verdict: PhotoVerdict,
    boxes: Mapping[int | None, Box],
    size: str,
    seed: int = 0,
    watermark: str = "",
    original_size: tuple[int, int] | None = None,
) -> bytes | None:
    """The JPEG a viewer may get for one use at one size, or None when the verdict hides it."""
    rendered = render_sizes(
        source=original,
        original_size=original_size,
        verdict=verdict,
        boxes=boxes,
        sizes=(size,),
        seed=seed,
        watermark=watermark,
    )
    return None if rendered is None else rendered[size]


def render_sizes(
    *,
    source: Image.Image,
    verdict: PhotoVerdict,
    boxes: Mapping[int | None, Box],
    sizes: Sequence[str],
    original_size: tuple[int, int] | None = None,
    seed: int = 0,
    watermark: str = "",
) -> dict[str, bytes] | None:
    """The JPEGs a viewer may get for one use at each of `sizes`, or None when the verdict hides
    the photo.

    `source` is the upright (EXIF-oriented) original or a smaller copy of it, e.g. the analysis
    image; `original_size` is then the upright original's size, in whose pixels `boxes` are.
    Covers are drawn on `source` before any resizing, so no smaller copy ever holds an uncovered
    face, and each smaller size is made from the larger one already covered.
    """
    unknown = [size for size in sizes if size not in SIZES]
    if unknown:
        raise ValueError(f"unknown size {unknown[0]!r}; use one of {', '.join(SIZES)}")
    if verdict.action is VerdictAction.HIDE:
        return None
    to_cover: list[Box] = []
    if verdict.action is VerdictAction.BLUR:
        missing = [face_id for face_id in verdict.faces_to_blur if face_id not in boxes]
        if missing or not verdict.faces_to_blur:
            raise RenderRefused(f"no position for faces {missing} that must be covered")
        to_cover = [
            scaled_box(boxes[face_id], original_size=original_size or source.size, size=source.size)
            for face_id in verdict.faces_to_blur
        ]
    image = (
        cover_heads(image=source, boxes=to_cover, seed=seed) if to_cover else source.convert("RGB")
    )
    image = _without_metadata(image)
    rendered: dict[str, bytes] = {}
    for size in sorted(set(sizes), key=lambda name: -SIZES[name]):
        image.thumbnail((SIZES[size], SIZES[size]), Image.Resampling.LANCZOS)
        marked = image.copy() if watermark else image
        if watermark:
            _draw_watermark(marked, watermark)
        buffer = io.BytesIO()
        marked.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
        rendered[size] = buffer.getvalue()
    return rendered


def scaled_box(box: Box, *, original_size: tuple[int, int], size: tuple[int, int]) -> Box:
    """A box in original pixels as a box in the pixels of a copy of `size`, rounded outwards so
    the copy's box holds every pixel the original's box touches."""
    x, y, w, h = box
    sx, sy = size[0] / original_size[0], size[1] / original_size[1]
    if sx == sy == 1:
        return box
    left, top = math.floor(x * sx), math.floor(y * sy)
    right, bottom = math.ceil((x + w) * sx), math.ceil((y + h) * sy)
    return left, top, right - left, bottom - top


def _draw_watermark(image: Image.Image, text: str) -> None:
    """The club's name in the bottom-right corner, white on a dark band, readable at any size."""
    from PIL import ImageFont

    size = max(10, image.width // 40)
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(image, "RGBA")
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = size // 2
    x = image.width - (right - left) - 2 * pad
    y = image.height - (bottom - top) - 2 * pad
    draw.rectangle((x, y, image.width, image.height), fill=(0, 0, 0, 140))
    draw.text((x + pad - left, y + pad - top), text, font=font, fill=(255, 255, 255, 230))


CROP_SIDE = 200


def render_crop(*, original: Image.Image, box: Box, margins: HeadMargins | None = None) -> bytes:
    """A small JPEG of one head, for staff naming it in review; no metadata."""
    left, top, w, h = head_region(
        box=box, image_size=original.size, margins=margins or HeadMargins(0.2, 0.3, 0.2)
    )
    crop = original.convert("RGB").crop((left, top, left + w, top + h))
    crop = _without_metadata(crop)
    crop.thumbnail((CROP_SIDE, CROP_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def open_upright(path: str) -> Image.Image:
    """The full-resolution original as a viewer sees it (EXIF orientation applied)."""
    with Image.open(path) as image:
        image.load()
        return ImageOps.exif_transpose(image).convert("RGB")


def file_name(
    *,
    original: str,
    verdict: PhotoVerdict,
    boxes: Mapping[int | None, Box],
    size: str,
    watermark: str = "",
) -> str:
    """The cache name of a rendering: derived from exactly which original it shows, what it
    covers, its size and mark. Naming the original means a rendering left behind for a photo id
    that is later reused (a rolled-back upload) can never be served for another photo."""
    if verdict.action is VerdictAction.HIDE:
        return f"{size}-hidden"
    covered = sorted(boxes[face_id] for face_id in verdict.faces_to_blur if face_id in boxes)
    text = f"{RENDER_VERSION}|{original}|{size}|{watermark}|" + ";".join(
        ",".join(map(str, box)) for box in covered
    )
    return f"{size}-{hashlib.sha256(text.encode()).hexdigest()[:24]}.jpg"
