"""One consent form drawn on a ReportLab canvas: header, child, uses with tick boxes,
signatures, the online answer and the privacy notice. The primitives are in `layout`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from babel.dates import format_date
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from consentlens.core.i18n import get_translations
from consentlens.forms import layout
from consentlens.forms.content import FormContent, GuardianInfo, OrganisationInfo
from consentlens.forms.layout import BOLD, BRAND, INK, MUTED, REGULAR, RULE, TINT, Sheet

# Babel locales for long dates ("30 juni 2027", "30 juin 2027", "30 June 2027").
_DATE_LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "en": "en_GB"}

TICK_BOX = 8.5 * mm  # large enough to tick with a pen
QR_SIZE = 21 * mm
MARGIN_X = 15 * mm
GAP = 8.0


def long_date(*, day: date, locale: str) -> str:
    """A date as people write it in this language (\"30 juni 2027\")."""
    return format_date(day, format="long", locale=_DATE_LOCALES.get(locale, "en_GB"))


class ConsentFormDrawing:
    """One form: header, child, uses with tick boxes, signatures, online answer, privacy notice."""

    def __init__(
        self,
        canvas: Canvas,
        form: FormContent,
        organisation: OrganisationInfo,
        logo: ImageReader | None,
    ) -> None:
        self.canvas = canvas
        self.form = form
        self.org = organisation
        self.logo = logo
        translations = get_translations(form.locale)
        self._: Callable[[str], str] = translations.gettext
        self.ngettext = translations.ngettext
        self.sheet = Sheet(
            canvas,
            margin_x=MARGIN_X,
            margin_top=12 * mm,
            margin_bottom=13 * mm,
            on_page_end=self._footer,
            on_page_start=self._continued,
        )

    def draw(self) -> None:
        self._header()
        self._facts()
        self._intro()
        self._uses()
        self._signatures()
        self._online()
        self._privacy()
        self.sheet.finish()

    def text(self, lines: list[str], x: float, top: float, **style: Any) -> float:
        return layout.draw_lines(canvas=self.canvas, lines=lines, x=x, top=top, **style)

    def heading(self, text: str, top: float) -> None:
        self.text([text], self.sheet.left, top, font=BOLD, size=10, leading=12, color=BRAND)

    def lead(self, text: str, *, extra: float = 0.0) -> float:
        """A heading and a paragraph under it, plus `extra` room; returns where the room starts."""
        sheet = self.sheet
        lines = layout.wrap(text=text, font=REGULAR, size=9.5, width=sheet.width)
        top = sheet.take(16 + 12.4 * len(lines) + extra)
        self.text(lines, sheet.left, top - 16, leading=12.4)
        return top

    # -- page furniture -------------------------------------------------------------------------

    def _footer(self, page: int) -> None:
        _ = self._
        canvas, sheet = self.canvas, self.sheet
        y = sheet.bottom - 7 * mm
        layout.rule(canvas=canvas, x=sheet.left, y=y + 10, width=sheet.width)
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(MUTED)
        right = _("Please return the signed form to the club.")
        if page > 1:
            right = _("Page %(num)d") % {"num": page} + " · " + right
        canvas.drawRightString(sheet.right, y, right)
        form_id = " · " + _("Form id %(code)s") % {"code": self.form.form_code}
        room = sheet.width - layout.text_width(text=right + form_id, font=REGULAR, size=8) - 24
        name = layout.wrap(text=self.org.name, font=REGULAR, size=8, width=room)
        canvas.drawString(sheet.left, y, name[0] + ("…" if len(name) > 1 else "") + form_id)

    def _continued(self, page: int) -> None:
        _ = self._
        who = self.form.child.full_name if self.form.child else _("Photo consent form")
        top = self.sheet.take(22)
        line = _("%(name)s (continued)") % {"name": who}
        self.text([line], self.sheet.left, top, font=BOLD, size=11, color=MUTED)

    # -- sections ------------------------------------------------------------------------------

    def _header(self) -> None:
        canvas, sheet = self.canvas, self.sheet
        x = sheet.left
        logo_height = 0.0
        if self.logo is not None:
            width, height = self.logo.getSize()
            scale = min(44 / height, 120 / width)
            logo_height = height * scale
            top = sheet.top - logo_height
            canvas.drawImage(self.logo, x, top, width * scale, logo_height, mask="auto")
            x += width * scale + 12
        name = layout.wrap(text=self.org.name, font=BOLD, size=11, width=sheet.right - x)[:2]
        used = self.text(name, x, sheet.top, font=BOLD, size=11, leading=13.5, color=MUTED)
        title = [self._("Photo consent form")]
        used += 3 + self.text(title, x, sheet.top - used - 3, font=BOLD, size=19, leading=22)
        sheet.take(max(used, logo_height) + 8)
        layout.rule(canvas=canvas, x=sheet.left, y=sheet.y + 2, width=sheet.width, color=BRAND)
        sheet.skip(GAP)

    def _facts(self) -> None:
        _ = self._
        canvas, sheet, form, child = self.canvas, self.sheet, self.form, self.form.child
        code = layout.barcode(value=form.form_code, height=22, bar_width=0.95)
        inner = sheet.width - code.width - 24
        column = (inner - 12) / 2
        season = long_date(day=form.season_end, locale=form.locale)
        if child is not None:
            # Long names shrink a little, then wrap: they must not run into the next column.
            size = 13.5
            while (
                size > 10.5
                and layout.text_width(text=child.full_name, font=BOLD, size=size) > column
            ):
                size -= 0.5
            name = layout.wrap(text=child.full_name, font=BOLD, size=size, width=column)[:2]
            groups = layout.wrap(
                text=", ".join(child.groups) or "–", font=REGULAR, size=11, width=column
            )[:3]
            second_row = 10 + 32 + 16 * (len(name) - 1)
            height = max(66.0, second_row + 10 + 14 * len(groups) + 8)
        else:
            height = 104.0
        top = sheet.take(height)
        canvas.setFillColor(TINT)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.8)
        canvas.roundRect(sheet.left, top - height, sheet.width, height, 6, stroke=1, fill=1)
        x0, x1 = sheet.left + 12, sheet.left + 24 + column
        if child is not None:
            birth = long_date(day=child.birth_date, locale=form.locale)
            self._cell(x0, top - 10, _("Child"), name, font=BOLD, size=size, leading=16)
            self._cell(x1, top - 10, _("Birth date"), [birth])
            self._cell(x0, top - second_row, _("Group"), groups)
            self._cell(x1, top - second_row, _("Valid for the season until"), [season])
        else:
            layout.write_line(
                canvas=canvas, x=x0, y=top - 34, width=inner, caption=_("Name of the child")
            )
            layout.write_line(
                canvas=canvas, x=x0, y=top - 64, width=column, caption=_("Birth date")
            )
            layout.write_line(canvas=canvas, x=x1, y=top - 64, width=column, caption=_("Group"))
            until = _("Valid for the season until %(date)s") % {"date": season}
            self.text([until], x0, top - 84, font=BOLD)
        # The form id, as text and as a barcode, so that a returned form is matched by a scan.
        right = sheet.right - 12
        code.drawOn(canvas, right - code.width, top - 34)
        lines = [_("Form id"), form.form_code]
        self.text(lines, right - code.width / 2, top - 40, font=BOLD, size=9, align="center")
        sheet.skip(GAP)

    def _cell(self, x: float, top: float, caption: str, lines: list[str], **style: Any) -> None:
        self.text([caption], x, top, size=7.5, leading=9, color=MUTED)
        self.text(lines, x, top - 10, **{"size": 11, "leading": 14, **style})

    def _intro(self) -> None:
        _ = self._
        if self.form.child is not None:
            text = _(
                "%(club)s takes photos at training sessions, matches and events. Before we use a "
                "photo on which %(name)s can be recognised, we ask your permission, for each use "
                "separately. Tick yes or no for every use: a use left empty counts as no. You can "
                "change your answers at any time."
            )
        else:
            text = _(
                "%(club)s takes photos at training sessions, matches and events. Before we use a "
                "photo on which your child can be recognised, we ask your permission, for each "
                "use separately. Tick yes or no for every use: a use left empty counts as no. You "
                "can change your answers at any time."
            )
        name = self.form.child.first_name if self.form.child else ""
        sheet = self.sheet
        lines = layout.wrap(
            text=text % {"club": self.org.name, "name": name},
            font=REGULAR,
            size=9.5,
            width=sheet.width,
        )
        self.text(lines, sheet.left, sheet.take(12.4 * len(lines)), leading=12.4)
        sheet.skip(6)
        if self.form.answered_by and self.form.answered_on:
            note = _(
                "The ticks show the answers of %(name)s on record on %(date)s. To change one, "
                "answer online, or correct the tick and return this form signed."
            ) % {
                "name": self.form.answered_by,
                "date": long_date(day=self.form.answered_on, locale=self.form.locale),
            }
            lines = layout.wrap(text=note, font=BOLD, size=9.5, width=sheet.width)
            top = sheet.take(12.4 * len(lines))
            self.text(lines, sheet.left, top, font=BOLD, leading=12.4, color=BRAND)
            sheet.skip(6)

    def _uses(self) -> None:
        _ = self._
        canvas, sheet = self.canvas, self.sheet
        column = 36.0
        box_x = [sheet.right - column * 1.5, sheet.right - column * 0.5]
        text_width = sheet.width - 2 * column - 16
        top = sheet.take(16)
        self.heading(_("What may the club use photos of your child for?"), top)
        for x, caption in zip(box_x, (_("Yes"), _("No")), strict=True):
            self.text([caption], x, top, font=BOLD, size=10, leading=12, align="center")
        layout.rule(canvas=canvas, x=sheet.left, y=sheet.y + 2, width=sheet.width, color=INK)
        answers = self.form.answers or (None,) * len(self.form.uses)
        for use, answer in zip(self.form.uses, answers, strict=True):
            label = layout.wrap(text=use.label, font=BOLD, size=10.5, width=text_width)
            explanation = layout.wrap(text=use.explanation, font=REGULAR, size=8, width=text_width)
            explanation += self._answer_line(answer)
            height = max(TICK_BOX + 7, 13 * len(label) + 10 * len(explanation) + 8)
            top = sheet.take(height)
            used = self.text(label, sheet.left + 2, top - 5, font=BOLD, size=10.5, leading=13)
            self.text(explanation, sheet.left + 2, top - 5 - used, size=8, leading=10, color=MUTED)
            for x, ticked in zip(box_x, (answer is True, answer is False), strict=True):
                box = (x - TICK_BOX / 2, top - (height + TICK_BOX) / 2)
                layout.tick_box(canvas=canvas, x=box[0], y=box[1], size=TICK_BOX)
                if ticked:
                    layout.tick(canvas=canvas, x=box[0], y=box[1], size=TICK_BOX)
            layout.rule(canvas=canvas, x=sheet.left, y=top - height, width=sheet.width)
        sheet.skip(GAP + 2)

    def _answer_line(self, answer: bool | None) -> list[str]:
        """On a guardian's own copy, their answer on record in words (the tick can be missed)."""
        if not self.form.answered_by:
            return []
        if answer is None:
            return [self._("Your answer on record: none yet")]
        if answer:
            return [self._("Your answer on record: yes")]
        return [self._("Your answer on record: no")]

    def _signature_lead(self) -> str:
        _ = self._
        child = self.form.child
        if child is None:
            return _("I confirm the answers above for my child, for this season.")
        values: dict[str, object] = {"name": child.first_name}
        lead = _("I confirm the answers above for %(name)s, for this season.") % values
        if child.age >= self.org.sole_consent_age:
            values["age"] = self.org.sole_consent_age
            more = _(
                "From the age of %(age)d, only the answer of %(name)s counts: %(name)s signs this "
                "form too."
            )
        elif child.age >= self.org.co_consent_age:
            values["age"] = self.org.co_consent_age
            more = _(
                "From the age of %(age)d, %(name)s has a say too: %(name)s signs this form as "
                "well, and a no from %(name)s counts as no."
            )
        else:
            return lead
        return f"{lead} {more % values}"

    def _signatures(self) -> None:
        _ = self._
        canvas, sheet, child = self.canvas, self.sheet, self.form.child
        top = self.lead(self._signature_lead(), extra=6 + 90)
        self.heading(_("Signatures"), top)
        first = sheet.y + 90
        # A blank form does not know the age: it leaves room for the child's signature too.
        columns = 3 if child is None or child.age >= self.org.co_consent_age else 2
        gap = 18.0
        width = (sheet.width - gap * (columns - 1)) / columns
        names = [g.name for g in self.form.guardians[:2]]
        for index in range(columns):
            x = sheet.left + index * (width + gap)
            if index < 2:
                heading, name = _("Parent or guardian"), names[index] if index < len(names) else ""
            else:
                heading = _("Child (from the age of %(age)d)") % {"age": self.org.co_consent_age}
                name = child.full_name if child else ""
            self.text([heading], x, first, font=BOLD, size=9, leading=11)
            layout.write_line(
                canvas=canvas, x=x, y=first - 28, width=width, caption=_("Name"), value=name
            )
            layout.write_line(canvas=canvas, x=x, y=first - 50, width=width, caption=_("Date"))
            layout.write_line(canvas=canvas, x=x, y=first - 80, width=width, caption=_("Signature"))
        sheet.skip(GAP)

    def _online(self) -> None:
        _ = self._
        sheet, form = self.sheet, self.form
        cards = [g for g in form.guardians if g.url and g.code]
        values = {"url": self.org.code_url}
        if cards:
            text = _(
                "Scan the QR code with the camera of your phone, or go to %(url)s and type your "
                "personal code. If you answer online, you do not need to return this form."
            )
        elif form.child is not None:
            values["name"] = form.child.first_name
            text = _(
                "The club has no parent of %(name)s on record yet. Once the club has added the "
                "parents, they can answer online too."
            )
        else:
            text = _(
                "Ask the club for your personal code and type it at %(url)s. If you answer "
                "online, you do not need to return this form."
            )
        self.heading(_("Rather answer online?"), self.lead(text % values))
        width = (sheet.width - 18) / 2
        for row in range(0, len(cards), 2):
            top = sheet.take(QR_SIZE + 6)
            for column, card in enumerate(cards[row : row + 2]):
                self._card(card, sheet.left + column * (width + 18), top - 4, width)
        sheet.skip(GAP)

    def _card(self, guardian: GuardianInfo, x: float, top: float, width: float) -> None:
        assert guardian.url is not None and guardian.code is not None
        # The QR code's own white margin (quiet zone) lines its modules up with the text above.
        layout.draw_qr(
            canvas=self.canvas, data=guardian.url, x=x - 4, y=top - QR_SIZE, size=QR_SIZE
        )
        x += QR_SIZE + 4
        name = layout.wrap(text=guardian.name, font=BOLD, size=10, width=width - QR_SIZE - 4)[:1]
        used = self.text(name, x, top - 4, font=BOLD, size=10, leading=13)
        used += self.text([self._("Personal code")], x, top - 4 - used, size=7.5, leading=9)
        self.text([guardian.code], x, top - 5 - used, font=BOLD, size=15, leading=20)
        if guardian.valid_until is not None:
            until = long_date(day=guardian.valid_until, locale=self.form.locale)
            line = self._("Valid until %(date)s") % {"date": until}
            self.text([line], x, top - 26 - used, size=8, color=MUTED)

    def _privacy(self) -> None:
        _ = self._
        org, sheet, canvas = self.org, self.sheet, self.canvas
        controller = org.privacy_controller or org.name
        parts = [
            _(
                "%(controller)s is responsible for these personal data. Photos of your child are "
                "used only for the uses you allow on this form, and only this season."
            )
            % {"controller": controller}
        ]
        if org.privacy_contact_email:
            parts.append(
                _("Questions or requests: %(email)s.") % {"email": org.privacy_contact_email}
            )
        parts += [
            _(
                "You can withdraw your consent at any time, online or by telling the club. It "
                "applies from then on; photos that were already printed cannot be taken back."
            ),
            _(
                "You have the right to see the data we keep about your child and to have them "
                "erased."
            ),
            self.ngettext(
                "Photos are kept for at most %(num)d month.",
                "Photos are kept for at most %(num)d months.",
                org.retention_months,
            )
            % {"num": org.retention_months},
        ]
        lines = layout.wrap(text=" ".join(parts), font=REGULAR, size=7.5, width=sheet.width - 20)
        height = 27 + 9.4 * len(lines)
        top = sheet.take(height)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.8)
        canvas.roundRect(sheet.left, top - height, sheet.width, height, 6, stroke=1, fill=0)
        self.text([_("Your privacy")], sheet.left + 10, top - 8, font=BOLD, size=9, leading=11)
        self.text(lines, sheet.left + 10, top - 21, size=7.5, leading=9.4, color=MUTED)
