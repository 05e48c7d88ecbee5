"""What an uploaded image is, read from its header and structure without decoding one pixel.

Decoding is where a small file turns into gigabytes and seconds (a 144 KB WebP of 9000 × 9000
pixels), so requests only read headers here; the photo worker decodes, in its own processes.
Every failure is an ImageRefused with a reason, never a Pillow exception.
"""

from __future__ import annotations

import io
import mmap
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from PIL import Image, PngImagePlugin
from pillow_heif import register_heif_opener

# Phones write HEIC.
register_heif_opener()

_ORIENTATION = 0x0112
# EXIF orientations that turn the picture a quarter: width and height swap for the viewer.
_QUARTER_TURNS = {5, 6, 7, 8}
# Pillow's own ceiling for one decompressed PNG text or colour-profile chunk.
MAX_METADATA_CHUNK = PngImagePlugin.MAX_TEXT_CHUNK
# Real encoders write a few thousand PNG chunks, a few dozen JPEG segments before the picture:
# a file of millions would only cost us time.
_MAX_PNG_CHUNKS = 50_000
_MAX_JPEG_SEGMENTS = 10_000


class Reason(StrEnum):
    UNREADABLE = "unreadable"
    TOO_MANY_PIXELS = "too_many_pixels"
    INCOMPLETE = "incomplete"
    OVERSIZED_METADATA = "oversized_metadata"
    ANIMATED = "animated"


class ImageRefused(ValueError):
    """Not an image we take; `reason` says why (each caller words it for its own page)."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Header:
    """Header-level facts of an image; `format` is Pillow's name (a phone's MPO counts as JPEG)."""

    format: str
    # As stored, and as a viewer shows it (after the EXIF orientation).
    size: tuple[int, int]
    oriented_size: tuple[int, int]
    exif: Image.Exif

    @property
    def pixels(self) -> int:
        return self.size[0] * self.size[1]


Source = Path | bytes
Buffer = bytes | mmap.mmap


def read_header(
    source: Source, *, max_pixels: int, formats: tuple[str, ...] | None = None
) -> Header:
    """Open an image lazily, check its size and structure, decode nothing; else ImageRefused."""
    with _opened(source, formats) as image:
        kind = "JPEG" if image.format == "MPO" else str(image.format)
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRefused(Reason.TOO_MANY_PIXELS, f"{width}×{height}")
        # An MPO's further pictures are previews or depth maps: the first is the photo. In an
        # animated PNG or WebP the other frames would hold faces nobody ever looks at.
        if kind in ("PNG", "WEBP") and getattr(image, "is_animated", False):
            raise ImageRefused(Reason.ANIMATED)
        try:
            exif = image.getexif()
            turned = exif.get(_ORIENTATION) in _QUARTER_TURNS
        except Exception:
            # Broken EXIF is no reason to refuse a photo; it is ignored like missing EXIF.
            exif, turned = Image.Exif(), False
    with _contents(source) as data:
        check_complete(data=data, kind=kind)
    oriented = (height, width) if turned else (width, height)
    return Header(kind, (width, height), oriented, exif)


@contextmanager
def _opened(source: Source, formats: tuple[str, ...] | None) -> Iterator[Image.Image]:
    fp = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        # Pillow only warns between 1× and 2× its pixel limit: a warning is a refusal here.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(fp, formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRefused(Reason.TOO_MANY_PIXELS, str(error)) from None
    except ValueError as error:
        # Pillow refuses a colour profile or text chunk that would unpack past its limit.
        raise ImageRefused(Reason.OVERSIZED_METADATA, str(error)) from None
    except (OSError, SyntaxError, EOFError, struct.error, IndexError, KeyError) as error:
        raise ImageRefused(Reason.UNREADABLE, str(error)) from None
    with image:
        yield image


@contextmanager
def _contents(source: Source) -> Iterator[Buffer]:
    if isinstance(source, bytes):
        yield source
        return
    # Mapped, not read: a 40 MB original costs no memory to walk.
    with source.open("rb") as handle:
        if handle.seek(0, 2) == 0:
            yield b""  # mmap cannot map an empty file
            return
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            yield data


def check_complete(*, data: Buffer, kind: str) -> None:
    """Refuse files cut short or corrupt, by their structure alone (no pixel is decoded)."""
    if kind == "JPEG":
        _check_jpeg(data)
    elif kind == "PNG":
        _check_png(data)
    elif kind == "WEBP":
        _check_webp(data)
    # HEIC is a container its decoder checks as a whole; the worker reports a broken one.


def _check_jpeg(data: Buffer) -> None:
    # Walk the marker segments to the first scan; the picture must end (EOI) somewhere after it.
    # Anything may follow (a phone's second MPO picture, a motion photo's video).
    position = 2
    for _ in range(_MAX_JPEG_SEGMENTS):
        if position + 4 > len(data) or data[position] != 0xFF:
            raise ImageRefused(Reason.INCOMPLETE, "no image data")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            position += 2
            continue
        if marker == 0xD9:
            raise ImageRefused(Reason.INCOMPLETE, "ends before its image data")
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + length
        if marker == 0xDA:  # start of scan
            break
    else:
        raise ImageRefused(Reason.UNREADABLE, "too many segments")
    if data.find(b"\xff\xd9", position) < 0:
        raise ImageRefused(Reason.INCOMPLETE, "no end of image")


def _check_png(data: Buffer) -> None:
    position = 8
    for _ in range(_MAX_PNG_CHUNKS):
        if position + 12 > len(data):
            raise ImageRefused(Reason.INCOMPLETE, "no IEND chunk")
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 8 + length
        if end + 4 > len(data):
            raise ImageRefused(Reason.INCOMPLETE, f"{kind!r} chunk cut short")
        body = memoryview(data)[position + 8 : end]
        try:
            (crc,) = struct.unpack(">I", data[end : end + 4])
            if zlib.crc32(body, zlib.crc32(kind)) != crc:
                raise ImageRefused(Reason.INCOMPLETE, f"{kind!r} chunk damaged")
            if kind in (b"zTXt", b"iCCP", b"iTXt"):
                _check_compressed_metadata(kind, bytes(body))
        finally:
            body.release()
        if kind == b"IEND":
            return
        position = end + 4
    raise ImageRefused(Reason.UNREADABLE, "too many chunks")


def _check_compressed_metadata(kind: bytes, body: bytes) -> None:
    """A text or colour-profile chunk must unpack within Pillow's limit (else it refuses later)."""
    _keyword, _, rest = body.partition(b"\0")
    if kind == b"iTXt":
        if rest[:1] != b"\1":
            return  # stored uncompressed
        # flag, method, language tag, translated keyword, then the text.
        rest = rest[2:].split(b"\0", 2)[-1]
    else:
        rest = rest[1:]  # compression method
    inflater = zlib.decompressobj()
    try:
        inflater.decompress(rest, MAX_METADATA_CHUNK)
    except zlib.error:
        raise ImageRefused(Reason.INCOMPLETE, f"{kind!r} chunk damaged") from None
    if inflater.unconsumed_tail:
        raise ImageRefused(Reason.OVERSIZED_METADATA, f"{kind!r} chunk unpacks too large")


def _check_webp(data: Buffer) -> None:
    (declared,) = struct.unpack("<I", data[4:8])
    if declared + 8 > len(data):
        raise ImageRefused(Reason.INCOMPLETE, "RIFF data cut short")
