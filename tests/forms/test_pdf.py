"""Printed forms as PDF, read back with a real text extractor and a real barcode decoder."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date

import pytest
from PIL import Image
from pypdf import PdfReader

from consentlens.consent.defaults import DEFAULT_USES
from consentlens.forms.content import (
    ChildInfo,
    FormContent,
    GuardianInfo,
    OrganisationInfo,
    UseLine,
)
from consentlens.forms.drawing import TICK_BOX
from consentlens.forms.pdf import render_forms
from tests.pdfs import barcodes, pages_text

NAMES = ["Łukasz Kowalski", "Zoë Ölçer", "Őrs Szabó", "Çağla Şahin"]
URL = "http://127.0.0.1:8000/c/MTIz.abcdefghijklmnopqrstuvwxyz012"


def uses(locale: str) -> tuple[UseLine, ...]:
    return tuple(UseLine(u[f"label_{locale}"], u[f"explanation_{locale}"]) for u in DEFAULT_USES)


ORG = OrganisationInfo(
    name="Sportclub De Lenteberg",
    page_size="A4",
    logo_png=None,
    privacy_controller="VZW Sportclub Łódź",
    privacy_contact_email="privacy@lenteberg.test",
    retention_months=18,
    co_consent_age=12,
    sole_consent_age=16,
    code_url="http://127.0.0.1:8000/code",
)


def child_form(
    locale: str = "en", *, name: str = "Łukasz Kowalski", age: int = 9, guardians: int = 2
) -> FormContent:
    first = name.split()[0]
    return FormContent(
        form_code="FABC2345",
        locale=locale,
        season_end=date(2027, 6, 30),
        uses=uses(locale),
        child=ChildInfo(first, name, date(2026 - age, 3, 4), ("U10 Dolfijnen",), age),
        guardians=tuple(
            GuardianInfo(NAMES[(k + 1) % 4], f"{URL}{k}", f"ABCD-EF2{k}", date(2026, 12, 24))
            for k in range(guardians)
        ),
    )


def blank_form(locale: str = "en") -> FormContent:
    return FormContent("FBLANK23", locale, date(2027, 6, 30), uses(locale), child=None)


@pytest.mark.parametrize("name", NAMES)
def test_names_beyond_latin1_come_out_exactly(name):
    data = render_forms(forms=[child_form(name=name)], organisation=ORG)
    text = pages_text(data)[0]
    assert name in text
    fonts = {
        str(font["/BaseFont"])
        for page in PdfReader(io.BytesIO(data)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all("SourceSansPro" in font for font in fonts), fonts


@pytest.mark.parametrize(
    ("locale", "labels", "heading"),
    [
        ("nl", ["Website van de club", "Gezichtsherkenning", "Besloten fotogalerij"], "Uw privacy"),
        ("fr", ["Site web du club", "Reconnaissance faciale", "Presse"], "Votre vie privée"),
        ("en", ["Club website", "Face recognition", "Social media"], "Your privacy"),
    ],
)
def test_every_use_in_the_forms_language(locale, labels, heading):
    text = pages_text(render_forms(forms=[child_form(locale)], organisation=ORG))[0]
    for use in DEFAULT_USES:
        assert use[f"label_{locale}"] in text
    for label in labels:
        assert label in text
    assert heading in text


def test_form_id_as_text_and_barcodes_that_decode():
    data = render_forms(forms=[child_form(guardians=2)], organisation=ORG)
    assert "FABC2345" in pages_text(data)[0]
    found = barcodes(data)
    assert ("Code128", "FABC2345") in found
    assert sorted(text for kind, text in found if kind == "QRCode") == [f"{URL}0", f"{URL}1"]


@pytest.mark.parametrize(
    ("age", "child_signs", "sole"), [(9, False, False), (11, False, False), (12, True, False),
                                     (15, True, False), (16, True, True)]
)  # fmt: skip
def test_the_child_signs_from_the_co_consent_age(age, child_signs, sole):
    text = pages_text(render_forms(forms=[child_form(age=age)], organisation=ORG))[0]
    assert ("Child (from the age of 12)" in text) is child_signs
    assert ("Łukasz has a say too" in text) is (child_signs and not sole)
    assert ("only the answer of Łukasz counts" in text) is sole
    assert len(re.findall(r"\bSignature\b", text)) == (3 if child_signs else 2)


def test_the_privacy_notice():
    text = pages_text(render_forms(forms=[child_form()], organisation=ORG))[0]
    assert "VZW Sportclub Łódź is responsible for these personal data" in text
    assert "privacy@lenteberg.test" in text
    assert "withdraw your consent at any time" in text
    assert "right to see the data we keep about your child and to have them erased" in text
    assert "kept for at most 18 months" in text
    no_controller = replace(
        ORG, privacy_controller="", privacy_contact_email="", retention_months=1
    )
    text = pages_text(render_forms(forms=[child_form()], organisation=no_controller))[0]
    assert "Sportclub De Lenteberg is responsible" in text
    assert "kept for at most 1 month." in text and "Questions or requests" not in text


def test_a_blank_form_has_lines_to_fill_in_and_no_personal_code():
    data = render_forms(forms=[blank_form()], organisation=ORG)
    text = pages_text(data)[0]
    assert "Name of the child" in text and "Birth date" in text and "Group" in text
    assert "Child (from the age of 12)" in text
    assert "type it at http://127.0.0.1:8000/code" in text
    assert barcodes(data) == [("Code128", "FBLANK23")]


def test_a_child_without_guardians_gets_a_line_instead_of_a_code():
    data = render_forms(forms=[child_form(guardians=0)], organisation=ORG)
    assert "The club has no parent of Łukasz on record yet" in pages_text(data)[0]
    assert [kind for kind, _ in barcodes(data)] == ["Code128"]


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("locale", ["nl", "fr", "en"])
def test_a_form_fits_one_a4_page_and_at_most_two_letter_pages(locale):
    logo = io.BytesIO()
    Image.new("RGB", (600, 240), "#1d4e89").save(logo, format="PNG")
    org = replace(
        ORG, logo_png=logo.getvalue(), name="Koninklijke Sportvereniging De Lenteberg Sint-Niklaas"
    )
    # The fullest usual form: a teenager who signs too, two groups, two guardians with codes.
    typical = replace(child_form(locale, age=13), child=replace(child_form().child, age=13))
    typical = replace(typical, child=replace(typical.child, groups=("U14 Haaien", "Selectie")))
    assert page_count(render_forms(forms=[typical, blank_form(locale)], organisation=org)) == 2
    letter = render_forms(forms=[typical], organisation=replace(org, page_size="letter"))
    assert page_count(letter) <= 2
    assert [float(v) for v in PdfReader(io.BytesIO(letter)).pages[0].mediabox] == [0, 0, 612, 792]
    # Very long names and many groups may take a second page, never a third.
    crowded = replace(
        typical,
        child=ChildInfo(
            "Maximiliaan-Alexander",
            "Maximiliaan-Alexander Van den Broeck-Vandersteenhoven",
            date(2013, 1, 1),
            ("U14 Haaien", "Selectie provinciaal", "Zomerkamp 2026", "Keepers", "Futsal"),
            13,
        ),
        guardians=typical.guardians * 2,
    )
    long_name = replace(org, name="Koninklijke Sportvereniging De Lenteberg " * 3)
    for size in ("A4", "letter"):
        data = render_forms(forms=[crowded], organisation=replace(long_name, page_size=size))
        assert page_count(data) == 2
        assert "Maximiliaan-Alexander Van den Broeck-Vandersteenhoven" in pages_text(data)[0]


def test_tick_boxes_are_large_enough_for_a_pen():
    assert TICK_BOX >= 8 * 72 / 25.4


def test_a_logo_gone_from_the_store_or_damaged_does_not_stop_printing():
    for gone in (None, b"", b"\x89PNG\r\n\x1a\n cut off"):
        org = replace(ORG, logo_png=gone)
        assert pages_text(render_forms(forms=[child_form()], organisation=org))[0].startswith(
            "Sportclub De Lenteberg"
        )
    org = replace(ORG, logo_png=None)
    assert pages_text(render_forms(forms=[child_form()], organisation=org))[0].startswith(
        "Sportclub De Lenteberg"
    )
