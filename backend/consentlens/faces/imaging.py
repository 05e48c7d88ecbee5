"""Load a photo for face analysis: upright, RGB, bounded in size, mapped back to the original."""

from __future__ import annotations

import math
import os
import struct
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps
from pillow_heif import register_heif_opener

# Phones write HEIC; every path that opens a photo imports this module first.
register_heif_opener()

PhotoSource = str | os.PathLike[str] | IO[bytes]


class UnreadablePhoto(Exception):
    """The file cannot be analysed: not an image, truncated, corrupt, or too large to decode."""


class PhotoTooLarge(UnreadablePhoto):
    """Too many pixels to decode safely (a decompression bomb, or simply beyond the limit)."""


@dataclass(frozen=True, slots=True)
class AnalysisImage:
    """An upright RGB image to analyse, and how its pixels map onto the oriented original."""

    image: Image.Image
    # Size of the original after EXIF orientation, i.e. as a viewer shows it: (width, height).
    original_size: tuple[int, int]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the analysis image."""
        return self.image.size

    @property
    def scale(self) -> float:
        """Original pixels per analysis pixel (1.0 when the photo was analysed at full size)."""
        return max(self.original_size) / max(self.image.size)

    def to_original(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """Map an `(x, y, w, h)` box from analysis pixels to oriented-original pixels, clipped."""
        x, y, w, h = box
        # Per axis: draft decoding rounds each side up separately, so the ratios differ slightly.
        sx = self.original_size[0] / self.image.size[0]
        sy = self.original_size[1] / self.image.size[1]
        left = max(0, math.floor(x * sx))
        top = max(0, math.floor(y * sy))
        right = min(self.original_size[0], math.ceil((x + w) * sx))
        bottom = min(self.original_size[1], math.ceil((y + h) * sy))
        return left, top, max(0, right - left), max(0, bottom - top)


def _fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """`size` scaled down so its long side is at most `max_side`, keeping the aspect ratio."""
    long_side = max(size)
    if long_side <= max_side:
        return size
    factor = max_side / long_side
    return max(1, round(size[0] * factor)), max(1, round(size[1] * factor))


def load_for_analysis(
    source: PhotoSource, *, max_side: int = 1600, max_pixels: int | None = None
) -> AnalysisImage:
    """Open a photo, apply its EXIF orientation and shrink it so the long side is ≤ `max_side`.

    Raises `UnreadablePhoto` for anything that is not a complete, reasonably sized image.
    `max_pixels` (stored width × height) defaults to Pillow's `Image.MAX_IMAGE_PIXELS`.
    """
    if max_side < 1:
        raise ValueError("max_side must be positive")
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    try:
        # Pillow only warns between 1× and 2× its limit and would then decode the bomb anyway.
        # (catch_warnings is process-wide before Python 3.14; workers analyse in processes.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
        with image:
            stored = image.size
            if limit is not None and stored[0] * stored[1] > limit:
                raise PhotoTooLarge(
                    f"{stored[0]}×{stored[1]} pixels exceeds the limit of {limit} pixels"
                )
            if image.format == "JPEG":
                # DCT scaling decodes at 1/2, 1/4 or 1/8 size for a fraction of the cost. The size
                # must be in the stored aspect ratio (draft takes the smaller of the two per-axis
                # ratios) and draft must come before exif_transpose, which decodes the pixels.
                image.draft("RGB", _fit(stored, max_side))
            # Pillow decodes lazily; load here so truncation surfaces as UnreadablePhoto.
            image.load()
            upright = ImageOps.exif_transpose(image)
            # Judge the rotation by what exif_transpose did, not by re-reading the tag.
            swapped = upright.size != image.size
        original_size = (stored[1], stored[0]) if swapped else stored
        if upright.mode != "RGB":
            upright = upright.convert("RGB")
        target = _fit(upright.size, max_side)
        if target != upright.size:
            upright = upright.resize(target, Image.Resampling.LANCZOS)
    except UnreadablePhoto:
        raise
    except (
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        raise PhotoTooLarge(f"image too large to decode safely: {error}") from error
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        # OSError covers UnidentifiedImageError and "image file is truncated".
        raise UnreadablePhoto(f"cannot read image: {error}") from error
    return AnalysisImage(image=upright, original_size=original_size)
