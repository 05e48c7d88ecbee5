"""Accepting uploaded photos: stream to disk, judge the content, keep the original privately.

Only the bytes decide what a file is; the name and the browser's content type are ignored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from PIL import Image

from consentlens.core import images
from consentlens.core.config import get_settings
from consentlens.core.i18n import N_
from consentlens.photos import storage

_CHUNK = 1024 * 1024
# Files in one upload request (the request body is bounded too: see main.BODY_LIMITS).
MAX_FILES_PER_REQUEST = 100
# Pillow's format name → (file extension, media type). HEIF is what phones write (HEIC); their
# multi-picture JPEGs (MPO) come as JPEG from images.read_header.
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "HEIF": ("heic", "image/heic"),
}
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME = 0x0132


class UploadRejected(ValueError):
    """A file that is not kept; `message` is a msgid shown next to the file, `params` fill it."""

    def __init__(self, message: str, **params: str) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


@dataclass(frozen=True, slots=True)
class Received:
    """An upload copied to disk, with its hash and size."""

    path: Path
    sha256: str
    byte_size: int


@dataclass(frozen=True, slots=True)
class Inspected:
    extension: str
    media_type: str
    # After EXIF orientation.
    width: int
    height: int
    taken_at: datetime | None


def max_bytes() -> int:
    return get_settings().photo_max_bytes


def _too_large() -> UploadRejected:
    return UploadRejected(
        N_("The file is larger than {limit} MB."), limit=str(max_bytes() // (1024 * 1024))
    )


@contextmanager
def receive(source: IO[bytes]) -> Iterator[Received]:
    """Copy an upload to a private incoming file in chunks, hashing as it goes.

    The incoming file is deleted when the block ends unless it was moved (kept) inside it.
    """
    path = storage.new_incoming_file()
    digest = hashlib.sha256()
    size = 0
    limit = max_bytes()
    try:
        with path.open("wb") as target:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise _too_large()
                digest.update(chunk)
                target.write(chunk)
        if size == 0:
            raise UploadRejected(N_("The file is empty."))
        yield Received(path=path, sha256=digest.hexdigest(), byte_size=size)
    finally:
        path.unlink(missing_ok=True)


_REFUSALS = {
    images.Reason.UNREADABLE: N_(
        "This is not a photo ConsentLens can read. Use JPEG, PNG, WebP or HEIC."
    ),
    images.Reason.TOO_MANY_PIXELS: N_("The image has too many pixels to process safely."),
    images.Reason.INCOMPLETE: N_("The file is damaged or incomplete. Upload it again."),
    images.Reason.OVERSIZED_METADATA: N_(
        "The image carries oversized metadata (text or a colour profile) and cannot be read "
        "safely. Export it again without it."
    ),
    images.Reason.ANIMATED: N_("Animated images are not accepted. Upload a photo."),
}
# Refusals a second try of the same file can get past (it may have been cut off on the way);
# every other refusal is about the file itself, and the upload page offers no Retry for it.
RETRYABLE = frozenset({_REFUSALS[images.Reason.INCOMPLETE]})


def inspect(path: Path) -> Inspected:
    """What the file holds, or UploadRejected with a message for the person who uploaded it.

    Only the header and the file's structure are read: the pixels are decoded by the photo
    worker, so an upload request costs the same whatever the image unpacks to.
    """
    try:
        header = images.read_header(path, max_pixels=get_settings().photo_max_pixels)
    except images.ImageRefused as refused:
        raise UploadRejected(_REFUSALS[refused.reason]) from None
    if header.format not in FORMATS:
        raise UploadRejected(
            N_("{kind} files are not accepted. Use JPEG, PNG, WebP or HEIC."), kind=header.format
        )
    extension, media_type = FORMATS[header.format]
    width, height = header.oriented_size
    return Inspected(extension, media_type, width, height, _capture_time(header.exif))


def _capture_time(exif: Image.Exif) -> datetime | None:
    try:
        raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    except Exception:
        return None
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip("\x00 ").strip(), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
