"""Names for files people download: every browser and file system takes them."""

from __future__ import annotations

import re
import unicodedata

_TRANSLITERATE = str.maketrans(
    {"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "ß": "ss", "Æ": "AE",
     "æ": "ae", "Œ": "OE", "œ": "oe", "ı": "i", "Þ": "Th", "þ": "th"}
)  # fmt: skip


def ascii_filename(*parts: str, extension: str = "pdf") -> str:
    """A download name that every browser and file system takes: lower-case ASCII and dashes."""
    text = "-".join(parts).translate(_TRANSLITERATE)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80].strip("-")
    return f"{slug or 'form'}.{extension}"
