"""The admin home and the family home as their users see them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from consentlens.auth.models import Role
from consentlens.consent import service as consent
from tests import factories
from tests.conftest import login


def _grant(db, org, kid, guardian, code):
    use = next(u for u in consent.list_uses(session=db, organisation=org) if u.code == code)
    consent.record_decision(
        session=db,
        organisation=org,
        child=kid,
        use=use,
        granted=True,
        method="online",
        now=datetime.now(UTC),
        guardian=guardian,
    )


def test_admin_home_shows_the_organisation_and_consent_counts(client, db):
    org = factories.organisation(db, name="Hockeyclub Ter Kamere")
    admin = factories.user(db, org, Role.ADMIN, locale="en")
    mum = factories.user(db, org, Role.GUARDIAN)
    factories.group(db, org, "U8")
    for _ in range(3):
        kid = factories.child(db, org, guardians=(mum,))
        _grant(db, org, kid, mum, "website")
    factories.child(db, org, guardians=(mum,))
    login(client, admin.email, factories.PASSWORD)
    page = client.get("/admin")
    assert page.status_code == 200
    html = page.text
    assert "Hockeyclub Ter Kamere" in html
    assert "<strong>4</strong> children" in html and "<strong>1</strong> groups" in html
    row = html[html.index("Club website") :]
    row = row[: row.index("</tr>")]
    # Each count is a link to those children: its text, without the tags around it.
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in row.split("</td>")[:3]]
    assert [cell.split()[-1] if cell else "" for cell in cells] == ["3", "0", "1"]


def test_the_family_home_lists_only_the_guardians_own_children(client, db):
    org = factories.organisation(db)
    ann = factories.user(db, org, Role.GUARDIAN, locale="nl")
    other_parent = factories.user(db, org, Role.GUARDIAN)
    mine = factories.child(
        db, org, first_name="Lotte", guardians=(ann,), birth_date=date(2017, 1, 1)
    )
    factories.child(db, org, first_name="Vreemde", last_name="Anderen", guardians=(other_parent,))
    _grant(db, org, mine, ann, "internal_gallery")
    login(client, ann.email, factories.PASSWORD)
    page = client.get("/family")
    assert page.status_code == 200
    assert "Lotte Peeters" in page.text
    assert "Vreemde" not in page.text
    assert "Toegestaan door Guardian" in page.text  # the reason, in Dutch
    assert "Nog geen antwoord." in page.text


def test_a_guardian_in_two_clubs_sees_one_club_at_a_time(client, db):
    first = factories.organisation(db, name="Club A")
    second = factories.organisation(db, name="Club B")
    parent = factories.user(db, first, Role.GUARDIAN)
    factories.child(db, first, first_name="Anna", guardians=(parent,))
    factories.child(db, second, first_name="Bram", guardians=(parent,))
    login(client, parent.email, factories.PASSWORD)
    page = client.get("/family")
    assert "Anna" in page.text and "Bram" not in page.text


def test_two_organisations_cannot_share_a_short_name(db):
    import pytest

    from consentlens.organisations import service

    service.create_organisation(session=db, name="KFC Eendracht", today=date(2026, 11, 24))
    with pytest.raises(service.OrganisationError, match="'kfc-eendracht' already exists"):
        service.create_organisation(session=db, name="KFC  Eendracht!", today=date(2026, 11, 24))
