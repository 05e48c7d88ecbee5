"""Drawing primitives for the printed forms: fonts, wrapped text, tick boxes, lines, codes.

Kept apart from `pdf.py` so that the form itself reads as a sequence of sections.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import font_source_sans_pro
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from consentlens.core.qr import QUIET_ZONE, qr_matrix

# Source Sans Pro covers Latin Extended (Ł, Ş, Ő, č, ø …); the 14 standard PDF fonts stop at
# Latin-1 and would print such names as black boxes.
REGULAR = "SourceSansPro"
BOLD = "SourceSansPro-Bold"

INK = HexColor("#1a1f27")
MUTED = HexColor("#4a5361")
LINE = HexColor("#9aa3ae")
RULE = HexColor("#d5dae1")
BRAND = HexColor("#1d4e89")
TINT = HexColor("#f1f4f8")

_font_lock = threading.Lock()


def register_fonts() -> None:
    """Register the two TrueType faces with ReportLab, once per process."""
    with _font_lock:
        if BOLD in pdfmetrics.getRegisteredFontNames():
            return
        files = font_source_sans_pro.font_files_ttf
        pdfmetrics.registerFont(TTFont(REGULAR, files["SourceSansPro"]))
        pdfmetrics.registerFont(TTFont(BOLD, files["SourceSansProBold"]))
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD)


def wrap(*, text: str, font: str, size: float, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` (at spaces; long words are split)."""
    return simpleSplit(text, font, size, width) or [""]


def text_width(*, text: str, font: str, size: float) -> float:
    """How wide `text` is when set in this font and size."""
    return pdfmetrics.stringWidth(text, font, size)


def draw_lines(
    *,
    canvas: Canvas,
    lines: list[str],
    x: float,
    top: float,
    font: str = REGULAR,
    size: float = 9.5,
    leading: float | None = None,
    color: Color = INK,
    align: str = "left",
) -> float:
    """Draw lines whose first line's top is at `top`; returns the height used."""
    leading = leading or round(size * 1.3, 1)
    canvas.setFont(font, size)
    canvas.setFillColor(color)
    # The cap height of Source Sans Pro is about 0.66 em: put the ascender at `top`.
    baseline = top - size * 0.78
    for line in lines:
        if align == "right":
            canvas.drawRightString(x, baseline, line)
        elif align == "center":
            canvas.drawCentredString(x, baseline, line)
        else:
            canvas.drawString(x, baseline, line)
        baseline -= leading
    return leading * len(lines)


def tick_box(*, canvas: Canvas, x: float, y: float, size: float) -> None:
    """An empty square to tick with a pen; (x, y) is its lower-left corner."""
    canvas.setStrokeColor(INK)
    canvas.setFillColor(HexColor("#ffffff"))
    canvas.setLineWidth(1.2)
    canvas.rect(x, y, size, size, stroke=1, fill=1)


def tick(*, canvas: Canvas, x: float, y: float, size: float) -> None:
    """A tick drawn in a box of `size` whose lower-left corner is (x, y)."""
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(2)
    path = canvas.beginPath()
    path.moveTo(x + size * 0.22, y + size * 0.52)
    path.lineTo(x + size * 0.42, y + size * 0.28)
    path.lineTo(x + size * 0.8, y + size * 0.74)
    canvas.drawPath(path, stroke=1, fill=0)


def write_line(
    *,
    canvas: Canvas,
    x: float,
    y: float,
    width: float,
    caption: str,
    value: str = "",
    value_font: str = REGULAR,
) -> None:
    """A line to write on at height `y`, its caption underneath, and an optional printed value."""
    canvas.setStrokeColor(LINE)
    canvas.setLineWidth(0.7)
    canvas.line(x, y, x + width, y)
    canvas.setFillColor(MUTED)
    canvas.setFont(REGULAR, 7.5)
    canvas.drawString(x, y - 9, caption)
    if value:
        size = 11.0
        while size > 7 and text_width(text=value, font=value_font, size=size) > width - 4:
            size -= 0.5
        canvas.setFillColor(INK)
        canvas.setFont(value_font, size)
        canvas.drawString(x + 2, y + 3.5, value)


def rule(*, canvas: Canvas, x: float, y: float, width: float, color: Color = RULE) -> None:
    canvas.setStrokeColor(color)
    canvas.setLineWidth(0.6)
    canvas.line(x, y, x + width, y)


def draw_qr(*, canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code of `data` as one filled path, quiet zone included; (x, y) is the lower left.

    `core.qr.qr_drawing` builds one validated ReportLab shape per dark run and encodes the data
    twice (about 22 ms per code); drawing the same matrix as one path takes about 6 ms, which
    keeps a 300-child batch within a few seconds.
    """
    matrix = qr_matrix(data)
    count = len(matrix) + 2 * QUIET_ZONE
    module = size / count
    canvas.setFillColor(HexColor("#ffffff"))
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        top = y + size - (r + QUIET_ZONE + 1) * module
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            path.rect(x + (start + QUIET_ZONE) * module, top, (c - start) * module, module)
    canvas.setFillColor(HexColor("#000000"))
    canvas.drawPath(path, stroke=0, fill=1)


def barcode(*, value: str, height: float, bar_width: float) -> Code128:
    """A Code 128 barcode (quiet zones included) ready for `drawOn(canvas, x, y)`."""
    return Code128(value, barHeight=height, barWidth=bar_width, humanReadable=False, quiet=True)


class Sheet:
    """Pages of one form, filled top-down; a block that does not fit goes to a new page."""

    def __init__(
        self,
        canvas: Canvas,
        *,
        margin_x: float,
        margin_top: float,
        margin_bottom: float,
        on_page_end: Callable[[int], None],
        on_page_start: Callable[[int], None],
    ) -> None:
        self.canvas = canvas
        page_width, page_height = canvas._pagesize
        self.left = margin_x
        self.width = page_width - 2 * margin_x
        self.right = self.left + self.width
        self.top = page_height - margin_top
        self.bottom = margin_bottom
        self.page = 1
        self.y = self.top
        self._on_page_end = on_page_end
        self._on_page_start = on_page_start

    def take(self, height: float) -> float:
        """Reserve `height` below the cursor (on a new page if needed); returns the block's top."""
        if self.y - height < self.bottom and self.y < self.top:
            self.new_page()
        top = self.y
        self.y -= height
        return top

    def skip(self, height: float) -> None:
        self.y = max(self.y - height, self.bottom)

    def new_page(self) -> None:
        self._on_page_end(self.page)
        self.canvas.showPage()
        self.page += 1
        self.y = self.top
        self._on_page_start(self.page)

    def finish(self) -> None:
        self._on_page_end(self.page)
        self.canvas.showPage()
