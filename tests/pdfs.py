"""Reading printed forms back: the text of each page and the barcodes on it."""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

import zxingcpp
from PIL import Image
from pypdf import PdfReader


def pages_text(data: bytes) -> list[str]:
    """Each page's text with whitespace made single spaces (wrapped lines join up again)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def barcodes(data: bytes, page: int = 1) -> list[tuple[str, str]]:
    """(format, text) of every barcode on a page, rendered at 150 dpi by poppler, read by zxing."""
    with tempfile.TemporaryDirectory() as folder:
        pdf, png = Path(folder) / "form.pdf", Path(folder) / "page"
        pdf.write_bytes(data)
        subprocess.run(
            ["pdftoppm", "-r", "150", "-png", "-f", str(page), "-l", str(page), "-singlefile",
             str(pdf), str(png)],
            check=True,
        )  # fmt: skip
        with Image.open(f"{png}.png") as image:
            return [(r.format.name, r.text) for r in zxingcpp.read_barcodes(image)]
