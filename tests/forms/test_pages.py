"""Printed consent forms through the real pages: per child, per team, blank, and the settings."""

from __future__ import annotations

import io
import os
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader
from sqlmodel import col, select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import ConsentLink, Role
from consentlens.consent.uses import Use
from consentlens.core.config import get_settings
from consentlens.forms import logo
from consentlens.forms.models import PrintedForm
from consentlens.organisations import service as organisations
from consentlens.people import children as child_service
from consentlens.people import guardianships
from tests import factories
from tests.conftest import csrf_from, login
from tests.factories.consent import decide
from tests.pdfs import barcodes, pages_text

EMPTY_GROUP = "This group has no children yet: there is nothing to print."


def years_ago(org, years: int, days: int = 0) -> date:
    """A birth date that makes a child `years` old today where the club is, `days` later."""
    today = organisations.local_today(organisation=org)
    birthday = date(today.year - years, today.month, min(today.day, 28))
    return birthday + timedelta(days=days)


@pytest.fixture
def club(db):
    org = factories.organisation(db, name="Sportclub Zonnedael")
    org.privacy_contact_email = "privacy@zonnedael.test"
    staff = factories.user(db, org, Role.STAFF, locale="en")
    nl = factories.user(db, org, Role.GUARDIAN, name="Agnieszka Kowalska", locale="nl")
    fr = factories.user(db, org, Role.GUARDIAN, name="Őrs Szabó", locale="fr")
    en = factories.user(db, org, Role.GUARDIAN, name="Çağla Şahin", locale="en")
    team = factories.group(db, org, "U10 Dolfijnen")
    lukasz = factories.child(db, org, first_name="Łukasz", last_name="Kowalski", guardians=(nl, fr))
    zoe = factories.child(db, org, first_name="Zoë", last_name="Ölçer", guardians=(fr,))
    cagla = factories.child(db, org, first_name="Çağla", last_name="Şahin", guardians=(en,))
    for kid in (lukasz, zoe, cagla):
        child_service.set_child_groups(session=db, organisation=org, child=kid, groups=[team])
    return org, staff, (nl, fr, en), team, (lukasz, zoe, cagla)


def printed_events(db, org) -> list[AuditEvent]:
    return list(
        db.exec(
            select(AuditEvent)
            .where(AuditEvent.organisation_id == org.id, AuditEvent.action == "forms.printed")
            .order_by(col(AuditEvent.id))
        )
    )


def assert_pdf_download(response, filename: str) -> bytes:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["cache-control"] == "private, no-store"
    return response.content


def test_a_childs_form_in_the_familys_language_with_working_codes(app, client, db, club):
    org, staff, (nl, fr, _), _, (lukasz, _, _) = club
    login(client, staff.email, factories.PASSWORD)
    data = assert_pdf_download(
        client.get(f"/staff/children/{lukasz.id}/form.pdf"), "consent-form-lukasz-kowalski.pdf"
    )
    text = pages_text(data)[0]
    # The first guardian's language (Dutch), every use, the names exactly as written.
    for phrase in ("Toestemmingsformulier foto's", "Website van de club", "Gezichtsherkenning"):
        assert phrase in text
    for name in ("Łukasz Kowalski", "Agnieszka Kowalska", "Őrs Szabó", "U10 Dolfijnen"):
        assert name in text
    form = db.exec(select(PrintedForm).where(PrintedForm.child_id == lukasz.id)).one()
    assert form.form_code in text and form.locale == "nl" and form.created_by_id == staff.id
    assert form.season_end == org.season_end and len(form.form_code) == 8
    assert "privacy@zonnedael.test" in text and "Uw privacy" in text

    found = barcodes(data)
    assert ("Code128", form.form_code) in found
    urls = [value for kind, value in found if kind == "QRCode"]
    assert len(urls) == 2 and all(urlsplit(url).path.startswith("/c/") for url in urls)
    link_codes = db.exec(
        select(ConsentLink.short_code, ConsentLink.guardian_id).where(ConsentLink.purpose == "form")
    ).all()
    assert {guardian for _, guardian in link_codes} == {nl.id, fr.id}
    for code, _ in link_codes:
        assert f"{code[:4]}-{code[4:]}" in text

    # A parent scans the code with a phone: signed in, on the consent page of their child.
    with TestClient(app, follow_redirects=False) as phone:
        opened = phone.get(urlsplit(urls[0]).path)
        assert opened.status_code == 303 and opened.headers["location"] == "/consent"
        assert "Łukasz" in phone.get("/consent").text

    (event,) = printed_events(db, org)
    assert event.actor_id == staff.id
    assert (event.subject_type, event.subject_id) == ("child", str(lukasz.id))
    assert event.details["form_codes"] == [form.form_code] and event.details["count"] == 1


@pytest.mark.parametrize(
    ("locale", "label"),
    [("fr", "Site web du club"), ("en", "Club website"), ("nl", "Website van de club")],
)
def test_staff_choose_the_language(client, db, club, locale, label):
    _, staff, _, _, (lukasz, _, _) = club
    login(client, staff.email, factories.PASSWORD)
    data = client.get(f"/staff/children/{lukasz.id}/form.pdf?locale={locale}").content
    assert label in pages_text(data)[0]
    assert client.get(f"/staff/children/{lukasz.id}/form.pdf?locale=de").status_code == 400


def test_the_child_signs_from_the_co_consent_age(client, db, club):
    org, staff, (_, _, en), _, _ = club
    login(client, staff.email, factories.PASSWORD)
    almost = factories.child(db, org, first_name="Almost", birth_date=years_ago(org, 12, days=1))
    twelve = factories.child(db, org, first_name="Twelve", birth_date=years_ago(org, 12))
    for kid, signs in ((almost, False), (twelve, True)):
        guardianships.create_guardianship(session=db, organisation=org, child=kid, user=en)
        text = pages_text(client.get(f"/staff/children/{kid.id}/form.pdf").content)[0]
        assert ("Child (from the age of 12)" in text) is signs
        assert (f"{kid.first_name} has a say too" in text) is signs


def test_a_team_batch_has_one_form_per_child_each_in_its_familys_language(client, db, club):
    org, staff, _, team, (lukasz, zoe, cagla) = club
    archived = factories.child(db, org, first_name="Gone", guardians=())
    child_service.set_child_groups(session=db, organisation=org, child=archived, groups=[team])
    child_service.set_child_archived(session=db, organisation=org, child=archived, archived=True)
    login(client, staff.email, factories.PASSWORD)
    data = assert_pdf_download(
        client.get(f"/staff/groups/{team.id}/forms.pdf"), "consent-forms-u10-dolfijnen.pdf"
    )
    pages = pages_text(data)
    assert len(pages) == 3  # each form on its own page, the archived child left out
    expected = {
        "Łukasz Kowalski": "Website van de club",
        "Zoë Ölçer": "Site web du club",
        "Çağla Şahin": "Club website",
    }
    forms = db.exec(select(PrintedForm).where(PrintedForm.organisation_id == org.id)).all()
    assert len(forms) == 3 and {f.child_id for f in forms} == {lukasz.id, zoe.id, cagla.id}
    for page in pages:
        (name,) = [name for name in expected if name in page]
        assert expected[name] in page
        assert sum(form.form_code in page for form in forms) == 1
    (event,) = printed_events(db, org)
    assert (event.subject_type, event.subject_id) == ("group", str(team.id))
    assert event.details["count"] == 3
    assert sorted(event.details["form_codes"]) == sorted(f.form_code for f in forms)


def test_a_blank_form_for_walk_ins(client, db, club):
    org, staff, _, _, _ = club
    login(client, staff.email, factories.PASSWORD)
    data = assert_pdf_download(
        client.get("/staff/forms/blank.pdf?locale=fr"), "consent-form-blank-fr.pdf"
    )
    text = pages_text(data)[0]
    assert "Nom de l'enfant" in text and "Site web du club" in text
    form = db.exec(select(PrintedForm).where(PrintedForm.organisation_id == org.id)).one()
    assert form.child_id is None and form.locale == "fr" and form.form_code in text
    assert barcodes(data) == [("Code128", form.form_code)]
    (event,) = printed_events(db, org)
    assert event.subject_type == "blank" and event.details["form_codes"] == [form.form_code]
    # Without ?locale= the organisation's language.
    assert "Naam van het kind" in pages_text(client.get("/staff/forms/blank.pdf").content)[0]


def test_a_child_without_guardians_gets_a_line_and_no_code(client, db, club):
    org, staff, _, _, _ = club
    alone = factories.child(db, org, first_name="Nour", last_name="Haddad")
    login(client, staff.email, factories.PASSWORD)
    data = client.get(f"/staff/children/{alone.id}/form.pdf").content
    assert "De club heeft nog geen ouder van Nour geregistreerd" in pages_text(data)[0]
    assert [kind for kind, _ in barcodes(data)] == ["Code128"]


def test_staff_cannot_print_what_is_not_theirs(client, db, club):
    org, staff, _, _, _ = club
    other = factories.organisation(db)
    stranger = factories.child(db, other, first_name="Elsewhere")
    foreign_team = factories.group(db, other)
    empty = factories.group(db, org, "U6 Kikkers")
    login(client, staff.email, factories.PASSWORD)
    assert client.get(f"/staff/children/{stranger.id}/form.pdf").status_code == 404
    assert client.get("/staff/children/999999/form.pdf").status_code == 404
    assert client.get(f"/staff/groups/{foreign_team.id}/forms.pdf").status_code == 404
    response = client.get(f"/staff/groups/{empty.id}/forms.pdf")
    assert response.status_code == 400 and "text/html" in response.headers["content-type"]
    assert EMPTY_GROUP in response.text
    assert printed_events(db, org) == [] and db.exec(select(PrintedForm)).all() == []


def test_a_guardian_prints_their_own_childs_form_with_their_own_code_only(client, db, club):
    org, _, (_, fr, _), team, (lukasz, zoe, cagla) = club
    login(client, fr.email, factories.PASSWORD)
    data = assert_pdf_download(
        client.get(f"/consent/children/{zoe.id}/form.pdf"), "consent-form-zoe-olcer.pdf"
    )
    assert "Zoë Ölçer" in pages_text(data)[0]
    (url,) = [value for kind, value in barcodes(data) if kind == "QRCode"]
    link = db.exec(select(ConsentLink).where(ConsentLink.purpose == "form")).one()
    assert link.guardian_id == fr.id and link.created_by_id == fr.id
    assert urlsplit(url).path.startswith("/c/")
    # Łukasz is also Őrs's child: the form names both guardians but holds Őrs's code only.
    data = client.get(f"/consent/children/{lukasz.id}/form.pdf").content
    assert "Agnieszka Kowalska" in pages_text(data)[0]
    assert len([kind for kind, _ in barcodes(data) if kind == "QRCode"]) == 1
    assert set(db.exec(select(ConsentLink.guardian_id))) == {fr.id}
    # Someone else's child, and the staff routes.
    assert client.get(f"/consent/children/{cagla.id}/form.pdf").status_code == 404
    assert client.get("/consent/children/999999/form.pdf").status_code == 404
    for path in (
        f"/staff/children/{zoe.id}/form.pdf",
        f"/staff/groups/{team.id}/forms.pdf",
        "/staff/forms/blank.pdf",
        "/staff/settings/forms",
    ):
        assert client.get(path).status_code == 403, path
    assert [e.actor_id for e in printed_events(db, org)] == [fr.id, fr.id]


def test_signed_out_visitors_are_sent_to_sign_in(client, club):
    _, _, _, _, (lukasz, _, _) = club
    for path in (
        f"/staff/children/{lukasz.id}/form.pdf",
        f"/consent/children/{lukasz.id}/form.pdf",
    ):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


# -- settings -------------------------------------------------------------------------------------


@pytest.fixture
def admin(client, db, club):
    org = club[0]
    user = factories.user(db, org, Role.ADMIN, locale="en")
    login(client, user.email, factories.PASSWORD)
    return org, user


def image_bytes(size: tuple[int, int], kind: str = "PNG", mode: str = "RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "#1d4e89" if mode == "RGB" else 0).save(out, format=kind, **save)
    return out.getvalue()


def post_settings(client, *, logo_file: tuple | None = None, **fields):
    token = csrf_from(client.get("/staff/settings/forms").text)
    data = {
        "csrf_token": token,
        "page_size": "A4",
        "privacy_controller": "",
        "privacy_contact_email": "",
        **fields,
    }
    files = {"logo": logo_file} if logo_file else {"logo": ("", b"", "application/octet-stream")}
    return client.post("/staff/settings/forms", data=data, files=files)


def test_an_admin_sets_logo_paper_and_privacy_contact(client, db, club, admin):
    org, user = admin
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    jpeg = image_bytes((1200, 400), "JPEG", exif=exif.tobytes())
    response = post_settings(
        client,
        logo_file=("logo.jpg", jpeg, "image/jpeg"),
        page_size="letter",
        privacy_controller="VZW Sportclub Łódź",
        privacy_contact_email="dpo@zonnedael.test",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/settings/forms?saved=1"
    db.refresh(org)
    assert org.form_page_size == "letter" and org.privacy_controller == "VZW Sportclub Łódź"
    assert org.logo_ref.startswith(f"logos/{org.id}-") and org.logo_ref.endswith(".png")
    stored = get_settings().resolved_media_dir / org.logo_ref
    with Image.open(stored) as image:
        assert image.format == "PNG" and image.size == (600, 200)
        assert "exif" not in image.info and not image.getexif()
    page = client.get("/staff/settings/forms?saved=1")
    assert "data:image/png;base64," in page.text and 'value="dpo@zonnedael.test"' in page.text

    lukasz = club[4][0]
    reader = PdfReader(io.BytesIO(client.get(f"/staff/children/{lukasz.id}/form.pdf").content))
    assert [float(v) for v in reader.pages[0].mediabox] == [0, 0, 612, 792]
    assert len(reader.pages[0].images) == 1
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "VZW Sportclub Łódź is verantwoordelijk" in text and "dpo@zonnedael.test" in text
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "forms.settings_changed")).one()
    assert event.actor_id == user.id
    assert set(event.details["changed"]) == {
        "page_size",
        "privacy_controller",
        "privacy_contact_email",
        "logo",
    }

    # Replacing the logo removes the old file; removing it removes the new one.
    assert post_settings(client, logo_file=("l.png", image_bytes((80, 40)), "image/png"))
    db.refresh(org)
    assert not stored.exists() and logo.read(org.logo_ref) is not None
    replaced = get_settings().resolved_media_dir / org.logo_ref
    assert replaced.is_file()
    assert post_settings(client, remove_logo="yes").status_code == 303
    db.refresh(org)
    assert org.logo_ref is None and not replaced.exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (("big.png", os.urandom(2 * 1024 * 1024 + 10), "image/png"), "at most 2 MB"),
        (("logo.png", b"GIF89a not really", "image/png"), "must be a PNG or JPEG image"),
        (("logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "image/png"), "damaged or incomplete"),
        (("wide.png", image_bytes((4001, 10)), "image/png"), "too many pixels"),
        # 10,000 × 10,000 one-bit pixels: a few kB on disk, 100 million pixels to decode.
        (("bomb.png", image_bytes((10_000, 10_000), mode="1"), "image/png"), "too many pixels"),
    ],
    ids=["too-large", "not-an-image", "damaged", "too-wide", "decompression-bomb"],
)
def test_a_bad_logo_gets_a_clear_message(client, db, admin, upload, message):
    org, _ = admin
    response = post_settings(client, logo_file=upload, privacy_controller="Kept as typed")
    assert response.status_code == 400
    assert message in response.text and 'value="Kept as typed"' in response.text
    db.refresh(org)
    assert org.logo_ref is None and org.privacy_controller == "Sportclub Zonnedael"
    assert not db.exec(
        select(AuditEvent).where(AuditEvent.action == "forms.settings_changed")
    ).all()


def test_the_decompression_bomb_warning_is_an_error(monkeypatch):
    # Pillow warns (rather than refuses) between its limit and twice its limit.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5_000)
    with pytest.raises(logo.LogoError, match="too many pixels"):
        logo.prepare(image_bytes((80, 80)))


def test_other_bad_settings(client, admin):
    response = post_settings(client, page_size="A3", privacy_contact_email="not an address")
    assert response.status_code == 400
    assert "Choose A4 or US Letter." in response.text
    assert "Fill in a valid e-mail address" in response.text


def test_settings_need_an_admin_and_a_csrf_token(client, db, club):
    org, staff, _, _, _ = club
    login(client, staff.email, factories.PASSWORD)
    assert client.get("/staff/settings/forms").status_code == 403
    admin = factories.user(db, org, Role.ADMIN)
    client.cookies.clear()
    login(client, admin.email, factories.PASSWORD)
    forged = client.post("/staff/settings/forms", data={"page_size": "letter"})
    assert forged.status_code == 403
    db.refresh(org)
    assert org.form_page_size == "A4"


def test_a_guardians_own_form_shows_their_answers_on_record(client, db, club):
    org, staff, (nl, fr, _), _, (lukasz, _, _) = club
    # Őrs said yes to the website and no to social media; Agnieszka's answers are not Őrs's.
    decide(db, org, lukasz, fr, {Use.WEBSITE: True, Use.SOCIAL_MEDIA: False})
    decide(db, org, lukasz, nl, {Use.PRESS: True})
    login(client, fr.email, factories.PASSWORD)
    client.cookies.set("lang", "en")  # the language Őrs reads the site in now
    response = client.get(f"/consent/children/{lukasz.id}/form.pdf")
    text = pages_text(assert_pdf_download(response, "consent-form-lukasz-kowalski.pdf"))[0]
    assert "The ticks show the answers of Őrs Szabó on record on" in text
    answers = dict(
        re.findall(r"(Club website|Social media|Press)\b.*?Your answer on record: (\w+)", text)
    )
    assert answers == {"Club website": "yes", "Social media": "no", "Press": "none"}
    # Staff print a form to fill in: nobody's answers on it.
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/family").text)})
    login(client, staff.email, factories.PASSWORD)
    staff_text = pages_text(client.get(f"/staff/children/{lukasz.id}/form.pdf?locale=en").content)[
        0
    ]
    assert "Club website" in staff_text
    assert "Your answer on record" not in staff_text and "The ticks show" not in staff_text
