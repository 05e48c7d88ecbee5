"""The secretary's spreadsheets (read back with csv and openpyxl) and the club-wide consent list."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role
from consentlens.consent.exports import safe_cell
from consentlens.consent.uses import Use
from consentlens.people import children as child_service
from tests import factories
from tests.conftest import login
from tests.factories.consent import decide


@pytest.fixture
def club(db):
    org = factories.organisation(db, name="Zwemclub De Golf")
    admin = factories.user(db, org, Role.ADMIN, locale="en")
    staff = factories.user(db, org, Role.STAFF, locale="en")
    mum = factories.user(db, org, Role.GUARDIAN, name="Mira Janssens", password=None)
    dad = factories.user(db, org, Role.GUARDIAN, name="=HYPERLINK(1)", password=None)
    team = factories.group(db, org, "U10 Dolfijnen")
    lotte = factories.child(
        db, org, first_name="Lotte", birth_date=date(2016, 3, 5), guardians=(mum, dad)
    )
    child_service.set_child_groups(session=db, organisation=org, child=lotte, groups=[team])
    decide(db, org, lotte, mum, {Use.WEBSITE: True, Use.PRESS: False})
    decide(db, org, lotte, dad, {Use.WEBSITE: True, Use.PRESS: False})
    alone = factories.child(db, org, first_name="Finn", last_name="Aerts")
    return org, admin, staff, mum, team, lotte, alone


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM spreadsheets need for accents
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def _xlsx_rows(data: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def test_safe_cell_defuses_what_a_spreadsheet_would_run():
    for text in ("=1+1", "+32 470", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("Lotte") == "Lotte" and safe_cell("") == ""


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_consent_export_has_a_row_per_child_and_use_in_the_clubs_language(
    client, db, club, fmt
):
    org, admin, *_ = club
    login(client, admin.email, factories.PASSWORD)
    response = client.get(f"/admin/exports/consents?format={fmt}")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["content-disposition"].endswith(f'.{fmt}"')
    rows = _csv_rows(response.content) if fmt == "csv" else _xlsx_rows(response.content)
    # The club is Dutch: Dutch headers, use names and answers, Belgian dates.
    assert rows[0] == [
        "Achternaam",
        "Voornaam",
        "Geboortedatum",
        "Groepen",
        "Gebruik",
        "Antwoord",
        "Geldig tot",
    ]
    uses = 6
    assert len(rows) == 1 + 2 * uses
    lotte = {row[4]: row for row in rows[1:] if row[1] == "Lotte"}
    assert len(lotte) == uses
    website = lotte["Website van de club"]
    assert website[:4] == ["Peeters", "Lotte", "5/03/2016", "U10 Dolfijnen"]
    assert website[5] == "Ja" and website[6].endswith(str(org.season_end.year))
    assert lotte["Pers"][5] == "Nee" and lotte["Pers"][6] == ""
    finn = [row for row in rows[1:] if row[1] == "Finn"]
    assert {row[5] for row in finn} == {"Geen antwoord"}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "export.consents")).one()
    assert event.actor_id == admin.id and event.details == {"format": fmt, "locale": "nl"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_member_export_has_a_row_per_child_with_guardians_and_no_formula(client, db, club, fmt):
    _, admin, _, mum, *_ = club
    login(client, admin.email, factories.PASSWORD)
    response = client.get(f"/admin/exports/members?format={fmt}")
    assert response.status_code == 200
    rows = _csv_rows(response.content) if fmt == "csv" else _xlsx_rows(response.content)
    assert rows[0][:5] == ["Achternaam", "Voornaam", "Geboortedatum", "Groepen", "Lidnummer"]
    assert rows[0][5:9] == ["Ouder 1", "Ouder 1 e-mail", "Ouder 1 telefoon", "Ouder 1 relatie"]
    assert len(rows[0]) == 5 + 2 * 4 and len(rows) == 3
    by_name = {row[1]: row for row in rows[1:]}
    lotte = by_name["Lotte"]
    assert lotte[5:9] == ["Mira Janssens", mum.email, "", "ouder"]
    # A guardian's name that a spreadsheet would run is written as text.
    assert lotte[9] == "'=HYPERLINK(1)"
    assert by_name["Finn"][5:] == [""] * 8
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value)
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "export.members")).one()


def test_exports_are_for_admins_of_the_club(client, db, club):
    _, _, staff, *_ = club
    login(client, staff.email, factories.PASSWORD)
    assert client.get("/admin/exports").status_code == 403
    assert client.get("/admin/exports/consents?format=csv").status_code == 403
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "export.consents")).first() is None


def test_an_unknown_format_is_not_found(client, db, club):
    _, admin, *_ = club
    login(client, admin.email, factories.PASSWORD)
    assert client.get("/admin/exports/members?format=ods").status_code == 404
    page = client.get("/admin/exports")
    assert "/admin/exports/members?format=xlsx" in page.text


def test_the_admin_home_counts_link_to_the_children_behind_them(client, db, club):
    _, admin, *_ = club
    login(client, admin.email, factories.PASSWORD)
    home = client.get("/admin").text
    assert "/staff/consents?use=website&amp;state=granted" in home
    assert "/staff/consents?use=press&amp;state=refused" in home
    granted = client.get("/staff/consents?use=website&state=granted").text
    assert "Lotte" in granted and "Finn" not in granted
    other = client.get("/staff/consents?use=website&state=other").text
    assert "Finn" in other and "Lotte" not in other
    refused = client.get("/staff/consents?use=press&state=refused").text
    assert "Lotte" in refused and "Mira Janssens" in refused


def test_the_not_answered_list_names_children_guardians_and_where_to_remind(client, db, club):
    org, _, staff, mum, team, lotte, _ = club
    login(client, staff.email, factories.PASSWORD)
    page = client.get("/staff/consents")
    assert page.status_code == 200
    # Lotte has answers for two uses only; Finn none; both still wait for an answer.
    assert "Lotte" in page.text and "Finn" in page.text and "Mira Janssens" in page.text
    assert f'href="/staff/groups/{team.id}/consents"' in page.text
    decide(db, org, lotte, mum, dict.fromkeys(Use, True))
    other = factories.user(db, org, Role.GUARDIAN, password=None)
    factories.child(db, org, first_name="Noor", guardians=(other,))
    page = client.get("/staff/consents?state=unanswered").text
    # Lotte's second guardian has not said yes to everything: Lotte still waits.
    assert "Lotte" in page and "Noor" in page


def test_the_club_list_shows_only_the_own_club(client, db, club):
    _, _, staff, *_ = club
    elsewhere = factories.organisation(db, name="Elders")
    factories.child(db, elsewhere, first_name="Vreemd")
    login(client, staff.email, factories.PASSWORD)
    assert "Vreemd" not in client.get("/staff/consents?state=all").text
