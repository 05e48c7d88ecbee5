"""The staff menu counts what waits: open removal requests and photos to take down."""

from __future__ import annotations

import re

from consentlens.auth.models import Role
from consentlens.core.tables import utcnow
from consentlens.gallery.models import RemovalRequest
from consentlens.publishing import service as publishing
from consentlens.publishing.menu_counts import menu_counts
from tests import factories
from tests.conftest import login
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos

BADGE = re.compile(r'<span class="nav-count" aria-hidden="true">(\d+)</span>')


def test_the_menu_counts_open_requests_and_takedowns_of_the_own_club(client, db):
    c, _ev, (obama, _stranger, dogs) = make_photos.analysed_club(db)
    login(client, c.staff.email, factories.PASSWORD)
    assert BADGE.findall(client.get("/admin").text) == []
    assert menu_counts(session=db, organisation=c.org) == {"removal_requests": 0, "takedowns": 0}

    publishing.publish(
        session=db,
        organisation=c.org,
        user=c.staff,
        use="website",
        photos=[obama, dogs],
        size="thumb",
        title="Club site",
        now=utcnow(),
    )
    make_consent.decide(db, c.org, c.obama, c.guardian, {"website": False})
    for photo in (obama, dogs):
        db.add(
            RemovalRequest(
                organisation_id=c.org.id, photo_id=photo.id, requested_by_id=c.guardian.id
            )
        )
    db.add(
        RemovalRequest(
            organisation_id=c.org.id,
            photo_id=dogs.id,
            requested_by_id=c.guardian.id,
            resolved_at=utcnow(),
            resolution="kept",
        )
    )
    # Another club's requests are not ours to count.
    other = make_photos.club(db)
    db.add(RemovalRequest(organisation_id=other.org.id, requested_by_id=other.guardian.id))
    db.flush()
    assert menu_counts(session=db, organisation=c.org) == {"removal_requests": 2, "takedowns": 1}

    page = client.get("/admin").text
    # The menu: one badge with the total, and words for screen readers (the club's Dutch).
    assert BADGE.findall(page) == ["3"]
    assert "(2 verwijderverzoeken, 1 foto om offline te halen)" in page
    # The photo section's tabs: a badge each.
    tabs = client.get("/staff/takedowns").text
    assert BADGE.findall(tabs) == ["3", "1", "2"]
    assert "(1 foto om offline te halen)" in tabs and "(2 verwijderverzoeken)" in tabs


def test_families_see_no_counts(client, db):
    c = make_photos.club(db)
    db.add(RemovalRequest(organisation_id=c.org.id, requested_by_id=c.guardian.id))
    guardian = factories.user(db, c.org, Role.GUARDIAN)
    login(client, guardian.email, factories.PASSWORD)
    page = client.get("/family")
    assert page.status_code == 200 and "nav-count" not in page.text
