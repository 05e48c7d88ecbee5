"""QR codes from ReportLab's own encoder (no extra dependency): for PDFs and as inline SVG."""

from __future__ import annotations

from reportlab.graphics.barcode import qrencoder
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing

QUIET_ZONE = 4  # modules of white border the QR standard asks for


def qr_drawing(*, data: str, size: float) -> Drawing:
    """A square drawing of `size` points holding the QR code of `data` (for ReportLab PDFs)."""
    widget = QrCodeWidget(data, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def qr_matrix(data: str) -> list[list[bool]]:
    """The dark (True) and light modules of the QR code of `data`, row by row."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(data)
    code.make()
    return [[bool(module) for module in row] for row in code.modules]


def qr_svg(*, data: str, size: int = 220, title: str = "") -> str:
    """The QR code of `data` as an <svg> element with no inline styles (our CSP forbids them)."""
    matrix = qr_matrix(data)
    count = len(matrix) + 2 * QUIET_ZONE
    path = "".join(
        f"M{c + QUIET_ZONE} {r + QUIET_ZONE}h1v1h-1z"
        for r, row in enumerate(matrix)
        for c, dark in enumerate(row)
        if dark
    )
    label = f"<title>{title}</title>" if title else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {count} {count}" role="img" shape-rendering="crispEdges">{label}'
        f'<rect width="{count}" height="{count}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )
