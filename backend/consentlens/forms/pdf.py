"""Printable consent forms as PDF (ReportLab), drawn from plain data: no database in here.

One `render_forms` call gives one PDF; every form in it starts on a new page, in its own language.
What a form says is in `content`, how one form is drawn in `drawing`, the primitives in `layout`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from consentlens.core.i18n import get_translations
from consentlens.forms import layout
from consentlens.forms.content import FormContent, OrganisationInfo
from consentlens.forms.drawing import ConsentFormDrawing
from consentlens.forms.layout import REGULAR

PAGE_SIZES = {"A4": A4, "letter": LETTER}


def render_forms(*, forms: Sequence[FormContent], organisation: OrganisationInfo) -> bytes:
    """One PDF holding every form, each starting on a new page."""
    layout.register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=PAGE_SIZES.get(organisation.page_size, A4),
        pageCompression=1,
        initialFontName=REGULAR,
    )
    canvas.setCreator("ConsentLens")
    canvas.setAuthor(organisation.name)
    if forms:
        _ = get_translations(forms[0].locale).gettext
        subject = forms[0].child.full_name if len(forms) == 1 and forms[0].child else ""
        canvas.setTitle(" – ".join(filter(None, [_("Photo consent form"), subject])))
    logo = _logo(organisation.logo_png)
    for form in forms:
        ConsentFormDrawing(canvas, form, organisation, logo).draw()
    canvas.save()
    return buffer.getvalue()


def _logo(data: bytes | None) -> ImageReader | None:
    # A logo that went missing from the store must not stop the forms from printing.
    if not data:
        return None
    try:
        return ImageReader(io.BytesIO(data))
    except OSError:
        return None
