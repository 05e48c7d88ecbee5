"""The organisation's logo on printed forms: checked, cleaned and kept in the store."""

from __future__ import annotations

import base64
import io
import uuid
import zlib
from pathlib import PurePosixPath

from PIL import Image, ImageOps

from consentlens.core import images, storage
from consentlens.core.i18n import N_

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 4000  # pixels, either way
MAX_WIDTH = 600  # stored width: plenty for 40 mm at print resolution
LOGO_DIR = "logos"
_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


class LogoError(ValueError):
    """An upload that cannot be used as a logo; the message (a msgid) is shown to the admin."""


def prepare(data: bytes) -> bytes:
    """The uploaded logo as a clean PNG (no metadata, at most 600 px wide), or LogoError."""
    if not data:
        raise LogoError(N_("The logo file is empty. Choose the file again."))
    if len(data) > MAX_BYTES:
        raise LogoError(N_("The logo file is too large: at most 2 MB."))
    kind = next((name for magic, name in _MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise LogoError(N_("The logo must be a PNG or JPEG image."))
    too_big = LogoError(N_("The logo has too many pixels: at most 4000 × 4000."))
    damaged = LogoError(N_("The logo is damaged or incomplete. Save it again and retry."))
    try:
        # A small file can unpack to billions of pixels: the size (and the metadata chunks) are
        # checked from the file's structure before any pixel is decoded.
        header = images.read_header(data, max_pixels=MAX_SIDE * MAX_SIDE, formats=(kind,))
    except images.ImageRefused as refused:
        raise (too_big if refused.reason is images.Reason.TOO_MANY_PIXELS else damaged) from None
    if max(header.size) > MAX_SIDE:
        raise too_big
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            image.load()
            return _clean_png(image)
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error):
        raise damaged from None


def _clean_png(image: Image.Image) -> bytes:
    # Turn the photo upright (JPEG orientation), then copy only the pixels: no EXIF, ICC or text.
    upright = ImageOps.exif_transpose(image)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    upright = upright.convert("RGBA" if has_alpha else "RGB")
    if upright.width > MAX_WIDTH:
        height = max(1, round(upright.height * MAX_WIDTH / upright.width))
        upright = upright.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
    clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    out = io.BytesIO()
    clean.save(out, format="PNG")
    return out.getvalue()


def store(*, png: bytes, organisation_id: int) -> str:
    """Keep the logo in the store; returns its reference."""
    reference = f"{LOGO_DIR}/{organisation_id}-{uuid.uuid4().hex}.png"
    storage.get_store().put_bytes(reference, data=png)
    return reference


def _ours(reference: str | None) -> bool:
    # A reference is a path: only one naming a file of the logo folder is ever opened.
    if not reference:
        return False
    try:
        storage.check_ref(reference)
    except storage.BadRef:
        return False
    path = PurePosixPath(reference)
    return len(path.parts) == 2 and path.parts[0] == LOGO_DIR


def read(reference: str | None) -> bytes | None:
    """The logo behind a reference, if it is one of ours and exists."""
    if not _ours(reference):
        return None
    assert reference is not None
    try:
        # Cleaned logos are far smaller than the upload limit; anything larger is not ours.
        return storage.get_store().read_bytes(reference, max_bytes=MAX_BYTES)
    except (storage.Missing, storage.TooLarge):
        return None


def discard(reference: str | None) -> None:
    """Remove a logo that was replaced or removed."""
    if _ours(reference):
        assert reference is not None
        storage.get_store().delete(reference)


def data_uri(reference: str | None) -> str | None:
    """The logo inline (our CSP allows data: images), to preview it on the settings page."""
    data = read(reference)
    if data is None:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
