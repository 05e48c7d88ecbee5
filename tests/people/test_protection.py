"""Protected children through the real pipeline and application: their photos (and photos that may
show them) are hidden from every use but the staff view, at once, with publications flagged."""

from __future__ import annotations

import io
import zipfile

from sqlmodel import Session, select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role, User
from consentlens.consent.protection import REASONS, Protection
from consentlens.core.tables import utcnow
from consentlens.faces.models import StoredVerdict
from consentlens.people import children as child_service
from consentlens.people import protection
from consentlens.photos.models import Photo
from consentlens.publishing import service as publishing
from consentlens.publishing import takedowns
from tests import factories
from tests.conftest import csrf_from, sign_in
from tests.factories import photos as make_photos

OBAMA = "2026-11-21 Tournament - obama_2.jpg"
DOGS = "2026-11-21 Tournament - dogs.jpg"
STRANGER = "2026-11-21 Tournament - kit_harington_1.jpg"
IMAGE_ROUTES = (
    "/gallery/photos/{id}/image?size=display",
    "/gallery/photos/{id}/image?size=thumb",
    "/gallery/photos/{id}/download",
    "/gallery/photos/{id}",
)


def _verdicts(db: Session, photo: Photo) -> dict[str, tuple[str, str]]:
    db.expire_all()
    return {
        v.use_code: (v.action, v.reason)
        for v in db.exec(select(StoredVerdict).where(StoredVerdict.photo_id == photo.id))
    }


def _protect(db: Session, c: make_photos.Club, admin: User, *, protected: bool = True) -> None:
    assert protection.set_child_protected(
        session=db,
        organisation=c.org,
        child=c.obama,
        protected=protected,
        reason="Court order" if protected else "",
        actor=admin,
    )


def _actions(db: Session, org_id: int | None) -> list[str]:
    return list(db.exec(select(AuditEvent.action).where(AuditEvent.organisation_id == org_id)))


def test_protecting_a_child_hides_their_photos_everywhere_at_once_and_flags_publications(db):
    c, _ev, (obama, stranger, dogs) = make_photos.analysed_club(db)
    admin = factories.user(db, c.org, Role.ADMIN)
    before = _verdicts(db, obama)
    assert all(action == "show" for action, _ in before.values())
    earlier = publishing.publish(
        session=db,
        organisation=c.org,
        user=c.staff,
        use="website",
        photos=[obama, dogs],
        size="display",
        title="Club site",
        now=utcnow(),
    )
    assert takedowns.open_takedowns(session=db, organisation=c.org) == []

    _protect(db, c, admin)

    # Re-judged in the same transaction: every use hides the photo, with the reason.
    hidden = _verdicts(db, obama)
    assert hidden.keys() == before.keys()
    assert set(hidden.values()) == {("hide", REASONS[Protection.IDENTIFIED])}
    # Obama plays in no group here: an unknown face elsewhere, and no face, stay as they were.
    assert all(reason not in REASONS.values() for _, reason in _verdicts(db, stranger).values())
    assert {action for action, _ in _verdicts(db, dogs).values()} == {"show"}

    # The earlier publication must come down; the reason does not name the child.
    (takedown,) = takedowns.open_takedowns(session=db, organisation=c.org)
    assert takedown.published.photo_id == obama.id
    assert takedown.publication.id == earlier.publication.id
    assert takedown.published.takedown_kind == "protected"
    assert c.obama.first_name not in takedown.reason("en", "Club website")
    assert "protected child" in takedown.reason("en", "Club website")

    # A new ZIP refuses it.
    export = publishing.publish(
        session=db,
        organisation=c.org,
        user=c.staff,
        use="print",
        photos=[obama, dogs],
        size="display",
        title="Newsletter",
        now=utcnow(),
    )
    assert sorted(zipfile.ZipFile(io.BytesIO(export.data)).namelist()) == [DOGS, "manifest.txt"]
    assert [photo.id for photo, _ in export.left_out] == [obama.id]

    audit = db.exec(
        select(AuditEvent).where(
            AuditEvent.organisation_id == c.org.id, AuditEvent.action == "people.child_protected"
        )
    ).one()
    assert (audit.actor_id, audit.subject_id, audit.details) == (
        admin.id,
        str(c.obama.id),
        {"reason": "Court order"},
    )
    assert "photos.takedown_flagged" in _actions(db, c.org.id)
    # Marking again changes nothing and audits nothing.
    assert not protection.set_child_protected(
        session=db, organisation=c.org, child=c.obama, protected=True, actor=admin
    )

    # Lifting it: consent decides again, audited.
    _protect(db, c, admin, protected=False)
    assert _verdicts(db, obama) == before
    assert c.obama.protected_reason == ""
    assert _actions(db, c.org.id).count("people.child_unprotected") == 1


def test_an_unidentified_face_at_an_event_of_their_group_hides_the_photo(db):
    c, ev, (obama, stranger, dogs) = make_photos.analysed_club(db)
    admin = factories.user(db, c.org, Role.ADMIN)
    child_service.set_child_groups(session=db, organisation=c.org, child=c.obama, groups=[c.team])
    other = factories.group(db, c.org)
    shown_before = _verdicts(db, stranger)

    _protect(db, c, admin)

    possible = {("hide", REASONS[Protection.POSSIBLE])}
    assert set(_verdicts(db, stranger).values()) == possible
    assert set(_verdicts(db, obama).values()) == {("hide", REASONS[Protection.IDENTIFIED])}
    # No face: nobody can be in it.
    assert {action for action, _ in _verdicts(db, dogs).values()} == {"show"}
    # A stranger at an event of another group only: as consent says.
    c2_event = make_photos.service.create_event(
        session=db,
        organisation=c.org,
        name="Other team",
        event_date=ev.event_date,
        group_ids=[other.id],
        user=c.staff,
    )
    (elsewhere,) = make_photos.upload(db, c, c2_event, ["portraits/kit_harington_2.jpeg"])
    while make_photos.processing.process_next(session=db):
        pass
    assert all(reason not in REASONS.values() for _, reason in _verdicts(db, elsewhere).values())
    assert shown_before != possible


def _as(client, user: User) -> str:
    client.cookies.clear()
    sign_in(client, user.email)
    return csrf_from(client.get("/account/password").text)


def test_no_non_staff_use_serves_a_protected_childs_photo(client, db):
    c, ev, (obama, stranger, dogs) = make_photos.analysed_club(db)
    child_service.set_child_groups(session=db, organisation=c.org, child=c.obama, groups=[c.team])
    admin = factories.user(db, c.org, Role.ADMIN)
    other_parent = factories.user(db, c.org, Role.GUARDIAN)
    rose = factories.child(db, c.org, first_name="Rose", guardians=(other_parent,))
    child_service.set_child_groups(session=db, organisation=c.org, child=rose, groups=[c.team])
    db.commit()

    _as(client, c.guardian)
    for route in IMAGE_ROUTES:
        assert client.get(route.format(id=obama.id)).status_code == 200, route
    _protect(db, c, admin)
    db.commit()

    # The child's own family, and another family of the team: nothing, reported as absent.
    for guardian in (c.guardian, other_parent):
        _as(client, guardian)
        for photo in (obama, stranger):
            for route in IMAGE_ROUTES:
                assert client.get(route.format(id=photo.id)).status_code == 404, route
        for listing in ("/gallery/mine", f"/gallery/events/{ev.id}"):
            page = client.get(listing)
            assert page.status_code == 200
            for photo in (obama, stranger):
                assert f"/gallery/photos/{photo.id}" not in page.text
        assert f"/gallery/photos/{dogs.id}" in client.get(f"/gallery/events/{ev.id}").text
    # Guardians of the child see that the child is protected (not the reason).
    _as(client, c.guardian)
    home = client.get("/family").text
    assert "Protected" in home and "Court order" not in home

    # Staff: the photo page says why; no use serves an image.
    _as(client, c.staff)
    page = client.get(f"/staff/photos/{obama.id}")
    assert page.status_code == 200 and "Hidden: a protected child is in this photo." in page.text
    page = client.get(f"/staff/photos/{stranger.id}?use=website")
    assert "Hidden: a protected child may be in this photo" in page.text
    for use in ("internal_gallery", "website", "social_media", "print"):
        response = client.get(f"/staff/photos/{obama.id}/image?use={use}")
        assert response.status_code == 404, use


def test_only_an_admin_of_the_club_protects_and_only_after_confirming(client, db):
    c, _ev, _photos = make_photos.analysed_club(db)
    admin = factories.user(db, c.org, Role.ADMIN)
    other = make_photos.club(db)
    other_admin = factories.user(db, other.org, Role.ADMIN)
    db.commit()
    url = f"/staff/children/{c.obama.id}/protect"

    token = _as(client, c.staff)
    edit = client.get(f"/staff/children/{c.obama.id}/edit")
    assert "Only an administrator can protect a child." in edit.text
    response = client.post(url, data={"csrf_token": token, "confirmed": "yes"})
    assert response.status_code == 403

    token = _as(client, other_admin)
    response = client.post(url, data={"csrf_token": token, "confirmed": "yes"})
    assert response.status_code == 404

    token = _as(client, admin)
    assert "Protect this child" in client.get(f"/staff/children/{c.obama.id}/edit").text
    confirm = client.post(url, data={"csrf_token": token, "reason": "Foster care"})
    assert confirm.status_code == 200 and "Yes, protect this child" in confirm.text
    assert 'value="Foster care"' in confirm.text
    db.expire_all()
    assert c.obama.protected_at is None
    done = client.post(
        url,
        data={"csrf_token": token, "reason": "Foster care", "confirmed": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db.expire_all()
    assert c.obama.protected_at is not None and c.obama.protected_reason == "Foster care"
    page = client.get(done.headers["location"]).text
    assert "This child is protected." in page and "Stop protecting this child" in page
    consents = client.get(f"/staff/children/{c.obama.id}").text
    assert 'class="badge badge-protected"' in consents

    undo = client.post(
        f"/staff/children/{c.obama.id}/unprotect",
        data={"csrf_token": token, "confirmed": "yes"},
        follow_redirects=False,
    )
    assert undo.status_code == 303
    db.expire_all()
    assert c.obama.protected_at is None
    actions = _actions(db, c.org.id)
    assert actions.count("people.child_protected") == 1
    assert actions.count("people.child_unprotected") == 1
    assert _actions(db, other.org.id).count("people.child_protected") == 0


def test_a_protected_child_joining_a_group_hides_that_groups_photos_at_once(db):
    c, _ev, (_obama, stranger, _dogs) = make_photos.analysed_club(db)
    admin = factories.user(db, c.org, Role.ADMIN)
    _protect(db, c, admin)
    # Obama is in no group yet: the stranger at the team's event is judged by consent alone.
    assert all(reason not in REASONS.values() for _, reason in _verdicts(db, stranger).values())

    child_service.set_child_groups(session=db, organisation=c.org, child=c.obama, groups=[c.team])

    assert set(_verdicts(db, stranger).values()) == {("hide", REASONS[Protection.POSSIBLE])}
