"""Reading served images back: how much of a face the cover hides, small test images."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def covered_fraction(jpeg: bytes, photo, face) -> float:
    """Share of the face box (scaled into the derivative) that is the cover's grey noise."""
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    scale = image.width / photo.width
    box = (
        int(face.x * scale),
        int(face.y * scale),
        int((face.x + face.w) * scale),
        int((face.y + face.h) * scale),
    )
    pixels = np.asarray(image.crop(box), dtype=np.int16)
    # The cover is uniform noise in 96..160 on every channel with no colour cast.
    grey = (pixels.min(axis=2) >= 80) & (pixels.max(axis=2) <= 176)
    flat = np.abs(pixels[..., 0] - pixels[..., 1]) < 40
    return float((grey & flat).mean())


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(buffer, "PNG")
    return buffer.getvalue()
