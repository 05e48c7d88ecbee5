"""A corpus of hostile and odd image uploads, generated here (nothing is checked in).

Each sample says which kinds of upload accept it as a legitimate image: "photo" (event photos),
"scan" (paper-form evidence: PDF, JPEG, PNG), "logo" (PNG, JPEG up to 4000 px). Portraits are
refused unless a face is found, which none of these has.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from functools import cache

from PIL import Image

GPS_LATITUDE = (50.0, 51.0, 7.5)
PAYLOAD = b"<script>alert('polyglot')</script>"


@dataclass(frozen=True)
class Sample:
    name: str
    data: bytes
    accepted_by: frozenset[str] = frozenset()


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with a correct CRC."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encoded(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **options) -> bytes:
    colour = {"RGB": (200, 40, 40), "CMYK": (0, 160, 160, 0), "I;16": 30000, "L": 128}[mode]
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt, **options)
    return out.getvalue()


def png_with(extra: bytes, *, after_pixels: bool = False) -> bytes:
    """A small valid PNG with `extra` chunks before its pixel data (or after it)."""
    data = encoded("PNG")
    if after_pixels:
        return data[:-12] + extra + data[-12:]  # before IEND
    return data[:33] + extra + data[33:]  # after the signature and IHDR


def oversized_ztxt() -> bytes:
    # 8 MB of text in 8 KB: Pillow refuses to unpack more than 1 MB ("Decompressed data too
    # large") and used to surface as a 500.
    return chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"\0" * (8 * 1024 * 1024), 9))


def oversized_iccp() -> bytes:
    return chunk(b"iCCP", b"icc\0\0" + zlib.compress(b"\0" * (8 * 1024 * 1024), 9))


@cache
def huge_png(width: int = 9400, height: int = 9400) -> bytes:
    """8-bit grey, every pixel 0: 86 KB on disk, 88 megapixels (2.5 GB and 12 s to decode)."""
    deflate = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # filter byte and the row
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def huge_webp(width: int = 9000, height: int = 9000) -> bytes:
    """A valid lossless WebP of one colour: 28 bytes for 81 megapixels.

    VP8L with five single-symbol prefix codes: decoding a pixel consumes no bits at all.
    """
    bits, count = 0, 0

    def put(value: int, width_in_bits: int) -> None:
        nonlocal bits, count
        bits |= value << count
        count += width_in_bits

    put(width - 1, 14)
    put(height - 1, 14)
    put(0, 1)  # no alpha
    put(0, 3)  # version 0
    put(0, 1)  # no transform
    put(0, 1)  # no colour cache
    put(0, 1)  # no meta prefix codes
    for _ in range(5):
        put(1, 1)  # simple code
        put(0, 1)  # one symbol
        put(0, 1)  # one bit wide
        put(0, 1)  # symbol 0
    payload = b"\x2f" + bits.to_bytes((count + 7) // 8, "little")
    if len(payload) % 2:
        payload += b"\0"
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


@cache
def bomb_png() -> bytes:
    """20000 × 20000 one-bit pixels: beyond even Pillow's own decompression-bomb limit."""
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")
    return out.getvalue()


def animated(fmt: str) -> bytes:
    out = io.BytesIO()
    first, second = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (64, 48), "blue")
    first.save(out, fmt, save_all=True, append_images=[second], duration=100, loop=0)
    return out.getvalue()


def mpo() -> bytes:
    """A phone's multi-picture JPEG: the photo, then a second picture."""
    out = io.BytesIO()
    first, second = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (32, 24), "blue")
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def with_gps() -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: GPS_LATITUDE, 3: "E", 4: (4.0, 21.0, 0.0)})
    return encoded("JPEG", exif=exif)


LEGIT_EVERYWHERE = frozenset({"photo", "scan", "logo"})


def corpus() -> list[Sample]:
    jpeg = encoded("JPEG")
    png = encoded("PNG")
    webp = encoded("WEBP")
    return [
        Sample("empty", b""),
        Sample("zero_bytes", b"\0" * 4096),
        Sample("text", b"just some text, not a photo\n" * 20),
        Sample(
            "svg",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="64" '
            b'height="48"><script>alert(1)</script><rect width="64" height="48"/></svg>',
        ),
        Sample("html", b"<!doctype html><html><body><script>alert(1)</script></body></html>"),
        # The signatures of an image in front of something else.
        Sample("png_magic_then_html", b"\x89PNG\r\n\x1a\n" + PAYLOAD * 10),
        Sample("jpeg_magic_then_html", b"\xff\xd8\xff\xe0" + PAYLOAD * 10),
        Sample("truncated_jpeg", jpeg[: len(jpeg) // 2]),
        Sample("truncated_png", png[: len(png) - 20]),
        Sample("truncated_webp", webp[: len(webp) // 2]),
        Sample("bomb_png", bomb_png()),
        Sample("huge_png", huge_png()),
        Sample("huge_webp", huge_webp()),
        Sample("oversized_ztxt", png_with(oversized_ztxt())),
        Sample("oversized_ztxt_after_pixels", png_with(oversized_ztxt(), after_pixels=True)),
        Sample("oversized_iccp", png_with(oversized_iccp())),
        Sample("gif", encoded("GIF")),
        Sample("animated_png", animated("PNG")),
        Sample("animated_webp", animated("WEBP")),
        # Legitimate images in less common shapes.
        Sample("cmyk_jpeg", encoded("JPEG", mode="CMYK"), LEGIT_EVERYWHERE),
        Sample("grey_16_bit_png", encoded("PNG", mode="I;16"), LEGIT_EVERYWHERE),
        Sample("mpo", mpo(), LEGIT_EVERYWHERE),
        Sample("gps_exif_jpeg", with_gps(), LEGIT_EVERYWHERE),
        # A real JPEG with a web page (or a zip) after it: an image, whose derivatives are
        # re-encoded pixels and carry none of the rest.
        Sample("jpeg_then_html", jpeg + PAYLOAD, LEGIT_EVERYWHERE),
        Sample("jpeg_then_zip", jpeg + b"PK\x03\x04" + PAYLOAD, LEGIT_EVERYWHERE),
        Sample("webp", webp, frozenset({"photo"})),
    ]


ODD_FILENAMES = [
    "../../../../etc/passwd.jpg",
    "..\\..\\windows\\system32\\evil.jpg",
    "/absolute/path/photo.jpg",
    "фото с турнира 📷 ünïcödé.jpg",
    "a" * 1000 + ".jpg",
    "control\x01\x1fchars.jpg",
    "",
]
