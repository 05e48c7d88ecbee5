"""An admin deleting a photo or an event by hand: confirmed, audited, files gone after commit."""

from __future__ import annotations

import pytest
from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role
from consentlens.faces import processing
from consentlens.faces.models import Face, StoredVerdict
from consentlens.photos import storage
from consentlens.photos.models import Event, Photo
from tests import factories
from tests.conftest import csrf_from, login
from tests.factories import photos as make_photos


@pytest.fixture
def scene(db):
    c = make_photos.club(db)
    admin = factories.user(db, c.org, Role.ADMIN, locale="en")
    ev = make_photos.event(db, c, "Spring tournament")
    photos = make_photos.upload(
        db, c, ev, ["portraits/kit_harington_1.jpeg", "portraits/rose_leslie_1.jpg"]
    )
    while processing.process_next(session=db):
        pass
    db.commit()
    return c, admin, ev, photos


def test_an_admin_deletes_a_photo_after_confirming(client, db, scene):
    _, admin, ev, (gone, kept) = scene
    original = storage.path_of(gone.original_ref)
    assert original.is_file() and db.exec(select(Face).where(Face.photo_id == gone.id)).all()
    login(client, admin.email, factories.PASSWORD)
    # A rendering is made on the first view; it must go with the photo.
    assert (
        client.get(f"/staff/photos/{gone.id}/image?use=internal_gallery&size=display").status_code
        == 200
    )
    assert storage.derivative_names(gone.id)
    assert f'href="/admin/photos/{gone.id}/delete"' in client.get(f"/staff/photos/{gone.id}").text
    confirm = client.get(f"/admin/photos/{gone.id}/delete")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    token = csrf_from(confirm.text)
    # Without the confirmation nothing happens.
    unconfirmed = client.post(f"/admin/photos/{gone.id}/delete", data={"csrf_token": token})
    assert unconfirmed.status_code == 303 and db.get(Photo, gone.id) is not None
    done = client.post(
        f"/admin/photos/{gone.id}/delete", data={"csrf_token": token, "confirm": "yes"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/staff/events/{ev.id}?done=photo_deleted"
    assert not original.exists()
    assert storage.derivative_names(gone.id) == set()
    db.expire_all()
    assert db.get(Photo, gone.id) is None
    assert db.exec(select(Face).where(Face.photo_id == gone.id)).all() == []
    assert db.exec(select(StoredVerdict).where(StoredVerdict.photo_id == gone.id)).all() == []
    assert db.get(Photo, kept.id) is not None and storage.path_of(kept.original_ref).is_file()
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "photos.photo_deleted")).one()
    assert event.actor_id == admin.id and event.subject_id == str(gone.id)
    assert "The photo is deleted." in client.get(done.headers["location"]).text


def test_an_admin_deletes_an_event_with_its_photos(client, db, scene):
    _, admin, ev, photos = scene
    originals = [storage.path_of(p.original_ref) for p in photos]
    login(client, admin.email, factories.PASSWORD)
    confirm = client.get(f"/admin/events/{ev.id}/delete")
    assert "2 photos are deleted" in confirm.text
    done = client.post(
        f"/admin/events/{ev.id}/delete",
        data={"csrf_token": csrf_from(confirm.text), "confirm": "yes"},
    )
    assert (
        done.status_code == 303 and done.headers["location"] == "/staff/events?done=event_deleted"
    )
    assert not any(path.exists() for path in originals)
    db.expire_all()
    assert db.get(Event, ev.id) is None
    assert db.exec(select(Photo).where(Photo.event_id == ev.id)).all() == []
    audit = db.exec(select(AuditEvent).where(AuditEvent.action == "photos.event_deleted")).one()
    assert audit.actor_id == admin.id and audit.details["reason"] == "admin"
    assert audit.details["photos"] == 2 and audit.ip
    assert (
        "The event and its photos are deleted."
        in client.get("/staff/events?done=event_deleted").text
    )


def test_staff_may_not_delete_and_see_no_delete_button(client, db, scene):
    c, _, ev, (photo, _) = scene
    login(client, c.staff.email, factories.PASSWORD)
    page = client.get(f"/staff/photos/{photo.id}")
    assert "/delete" not in page.text
    assert client.get(f"/admin/photos/{photo.id}/delete").status_code == 403
    refused = client.post(
        f"/admin/events/{ev.id}/delete", data={"csrf_token": csrf_from(page.text), "confirm": "yes"}
    )
    assert refused.status_code == 403
    assert storage.path_of(photo.original_ref).is_file()
    db.expire_all()
    assert db.get(Photo, photo.id) is not None


def test_an_admin_of_another_club_gets_not_found(client, db, scene):
    _, _, ev, (photo, _) = scene
    other = factories.organisation(db)
    stranger = factories.user(db, other, Role.ADMIN)
    login(client, stranger.email, factories.PASSWORD)
    assert client.get(f"/admin/photos/{photo.id}/delete").status_code == 404
    assert client.get(f"/admin/events/{ev.id}/delete").status_code == 404
