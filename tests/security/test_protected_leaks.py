"""Leak test for protected children: every route of the matrix that serves a photo's image is
asked for a protected child's photos, in every use and size, by every kind of caller, and none
answers with an image. Driven by expectations.TABLE: a new image route is probed as well."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from consentlens.auth.models import Role, User
from consentlens.faces import derivatives, verdicts
from consentlens.people import children as child_service
from consentlens.people import protection
from consentlens.photos.models import Photo
from tests import factories
from tests.conftest import bearer, sign_in
from tests.factories import PASSWORD
from tests.factories import photos as make_photos
from tests.security.expectations import TABLE

IMAGE_ROUTES = sorted(
    path
    for (method, path) in TABLE
    if method == "GET" and "{photo_id}" in path and path.endswith(("/image", "/download"))
)
LISTINGS = ("/gallery", "/gallery/mine", "/gallery/events/{event_id}")


def _uses(db: Session, org) -> list[str]:
    return [use.code for use in verdicts.photo_uses(session=db, organisation=org)]


def _urls(path: str, photo: Photo, uses: list[str]) -> list[str]:
    base = path.replace("{photo_id}", str(photo.id))
    return [f"{base}?use={use}&size={size}" for use in uses for size in derivatives.SIZES]


def test_the_matrix_has_image_routes_to_probe():
    # The gallery's, the staff pages' and the API's: if this shrinks, a route was renamed.
    assert len(IMAGE_ROUTES) >= 4, IMAGE_ROUTES


@pytest.mark.parametrize("caller", ["own_guardian", "team_guardian", "staff", "admin", "api"])
def test_no_route_serves_a_protected_childs_photo(client, db, caller):
    c, ev, (obama, stranger, dogs) = make_photos.analysed_club(db)
    child_service.set_child_groups(session=db, organisation=c.org, child=c.obama, groups=[c.team])
    admin = factories.user(db, c.org, Role.ADMIN)
    team_parent = factories.user(db, c.org, Role.GUARDIAN)
    rose = factories.child(db, c.org, first_name="Rose", guardians=(team_parent,))
    child_service.set_child_groups(session=db, organisation=c.org, child=rose, groups=[c.team])
    protection.set_child_protected(
        session=db, organisation=c.org, child=c.obama, protected=True, actor=admin
    )
    db.commit()
    callers: dict[str, User] = {
        "own_guardian": c.guardian,
        "team_guardian": team_parent,
        "staff": c.staff,
        "admin": admin,
        "api": c.staff,
    }
    user = callers[caller]
    headers = {}
    if caller == "api":
        headers = bearer(client, user.email, PASSWORD)
    else:
        sign_in(client, user.email)
    uses = _uses(db, c.org)
    served = []
    for path in IMAGE_ROUTES:
        if path.startswith("/api/") != (caller == "api"):
            continue
        for photo in (obama, stranger):
            for url in _urls(path, photo, uses):
                response = client.get(url, headers=headers)
                if response.status_code == 200 or response.headers.get(
                    "content-type", ""
                ).startswith("image/"):
                    served.append((url, response.status_code))
                assert response.status_code in (403, 404), (url, response.status_code)
    assert served == []
    # The photo without faces is still served to the callers who may see it: the probe is live.
    if caller != "api":
        probe = f"/gallery/photos/{dogs.id}/image?size=thumb"
        assert client.get(probe).status_code == 200
    if caller in ("own_guardian", "team_guardian"):
        for listing in LISTINGS:
            text = client.get(listing.replace("{event_id}", str(ev.id))).text
            for photo in (obama, stranger):
                assert f"/gallery/photos/{photo.id}" not in text, listing
