"""Retention: photos past the organisation's period are deleted with their files, faces and
embeddings; what is due soon is listed first."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from consentlens.core.tables import utcnow
from consentlens.faces import processing
from consentlens.faces.models import Face, StoredVerdict
from consentlens.organisations import service as organisations
from consentlens.photos import service, storage
from consentlens.photos.models import Event, Photo
from consentlens.publishing import retention
from tests.factories import photos as make_photos


def test_add_months_keeps_month_ends():
    assert retention.add_months(day=date(2024, 1, 31), months=1) == date(2024, 2, 29)
    assert retention.add_months(day=date(2024, 2, 29), months=12) == date(2025, 2, 28)
    assert retention.add_months(day=date(2026, 11, 24), months=-24) == date(2024, 11, 24)


def test_photos_past_retention_are_deleted_with_their_files(db):
    c = make_photos.club(db)
    today = organisations.local_today(organisation=c.org, now=utcnow())
    old = service.create_event(
        session=db,
        organisation=c.org,
        name="Old season",
        event_date=retention.add_months(day=today, months=-c.org.retention_months)
        - timedelta(days=1),
        group_ids=[],
        user=c.staff,
    )
    soon = service.create_event(
        session=db,
        organisation=c.org,
        name="Due soon",
        event_date=retention.add_months(day=today, months=-c.org.retention_months)
        + timedelta(days=10),
        group_ids=[],
        user=c.staff,
    )
    recent = make_photos.event(db, c, "This season")
    (old_photo,) = make_photos.upload(db, c, old, ["portraits/kit_harington_1.jpeg"])
    (kept_photo,) = make_photos.upload(db, c, recent, ["portraits/kit_harington_2.jpeg"])
    make_photos.upload(db, c, soon, ["negative/dogs.jpg"])
    while processing.process_next(session=db):
        pass
    original = storage.path_of(old_photo.original_ref)
    assert original.is_file()

    due = retention.due_events(session=db, organisation=c.org, now=utcnow())
    assert [d.event.name for d in due] == ["Old season", "Due soon"]
    assert due[1].delete_on == today + timedelta(days=10)

    old_id = old_photo.id
    deleted = retention.delete_due(session=db, organisation=c.org, now=utcnow())
    assert deleted == 1
    db.commit()  # files go only once the rows are gone for good
    assert not original.exists()
    assert db.get(Photo, old_id) is None
    assert db.exec(select(Face).where(Face.photo_id == old_id)).all() == []
    assert db.exec(select(StoredVerdict).where(StoredVerdict.photo_id == old_id)).all() == []
    assert db.get(Event, old.id) is None
    assert db.get(Photo, kept_photo.id) is not None
    assert storage.path_of(kept_photo.original_ref).is_file()


def test_files_survive_when_the_deletion_is_rolled_back(db):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["portraits/rose_leslie_1.jpg"])
    db.commit()
    original = storage.path_of(photo.original_ref)
    savepoint = db.begin_nested()
    retention.delete_event(session=db, organisation=c.org, event=ev, reason="test")
    savepoint.rollback()
    db.rollback()
    assert original.is_file()
