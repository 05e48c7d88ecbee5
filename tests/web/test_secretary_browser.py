"""The club secretary downloads the consents and members spreadsheets from the admin pages, and
the files hold what the club has: read back with openpyxl and the csv module."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.web.pages import ADMIN, DESKTOP, new_page, sign_in

pytestmark = pytest.mark.browser


def _download(page, selector: str, artifacts: Path) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.locator(selector).click()
    download = info.value
    target = artifacts / f"secretary-{download.suggested_filename}"
    download.save_as(target)
    return download.suggested_filename, target.read_bytes()


def test_the_admin_downloads_the_exports_and_they_hold_the_club(browser, live_server, artifacts):
    page = new_page(browser, DESKTOP)
    sign_in(page, live_server.url, *ADMIN)
    page.goto(f"{live_server.url}/admin")
    page.locator('a[href="/admin/exports"]').first.click()
    page.wait_for_url("**/admin/exports")
    page.screenshot(path=str(artifacts / "secretary-exports.png"), full_page=True)

    name, data = _download(page, 'a[href="/admin/exports/members?format=xlsx"]', artifacts)
    assert name.startswith("sportclub-de-lenteberg-leden-") and name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    members = [
        ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
    ]
    # The demo club is Dutch: so is the file.
    assert members[0][:5] == ["Achternaam", "Voornaam", "Geboortedatum", "Groepen", "Lidnummer"]
    lotte = next(row for row in members[1:] if row[:2] == ["Peeters", "Lotte"])
    assert lotte[3] == "U10 Dolfijnen"
    assert "Ann Peeters" in lotte and "ann.peeters@demo.consentlens.test" in lotte
    assert "Bart Peeters" in lotte

    name, data = _download(page, 'a[href="/admin/exports/consents?format=csv"]', artifacts)
    assert name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "Achternaam", "Voornaam", "Geboortedatum", "Groepen", "Gebruik", "Antwoord", "Geldig tot"
    ]  # fmt: skip
    # One row per child and use: every child of the members file, six uses each.
    children = {(row[0], row[1]) for row in members[1:]}
    assert len(rows) - 1 == 6 * len(children)
    assert {(row[0], row[1]) for row in rows[1:]} == children
    lotte_uses = {row[4]: row[5] for row in rows[1:] if row[:2] == ["Peeters", "Lotte"]}
    assert set(lotte_uses) >= {"Website van de club", "Pers", "Gezichtsherkenning"}
    assert set(lotte_uses.values()) <= {
        "Ja",
        "Nee",
        "Geen antwoord",
        "Verlopen",
        "Wacht op antwoord",
    }

    name, data = _download(page, 'a[href="/admin/exports/consents?format=xlsx"]', artifacts)
    sheet = load_workbook(io.BytesIO(data)).active
    assert [
        ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
    ] == rows
    page.context.close()
