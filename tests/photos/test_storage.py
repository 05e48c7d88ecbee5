"""Photo files never outlive an upload that did not commit, and what a crash left is swept."""

from __future__ import annotations

import io
import os
from datetime import timedelta

from sqlmodel import select

from consentlens.core.tables import utcnow
from consentlens.faces import processing
from consentlens.photos import service, storage
from consentlens.photos.models import Photo
from tests.core import hostile
from tests.factories import photos as make_photos


def add(db, c, ev, data: bytes) -> service.UploadResult:
    return service.add_upload(
        session=db,
        organisation=c.org,
        event=ev,
        source=io.BytesIO(data),
        filename="photo.jpg",
        user=c.staff,
    )


def test_an_upload_whose_transaction_rolls_back_leaves_no_original(db):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    db.commit()
    result = add(db, c, ev, hostile.encoded("JPEG", size=(61, 47)))
    assert result.photo is not None
    original = storage.path_of(result.photo.original_ref)
    assert original.is_file()
    db.rollback()  # e.g. a later file, or the commit itself, failed
    assert not original.exists()
    assert make_photos.uploads_in_flight() == []


def test_an_upload_that_commits_keeps_its_original(db):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    result = add(db, c, ev, hostile.encoded("JPEG", size=(62, 47)))
    assert result.photo is not None
    original = storage.path_of(result.photo.original_ref)
    db.commit()
    db.close()
    assert original.is_file()


def age(path, minutes: int) -> None:
    moment = (utcnow() - timedelta(minutes=minutes)).timestamp()
    os.utime(path, (moment, moment))


def test_start_up_sweeps_what_interrupted_uploads_left(db):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    kept = add(db, c, ev, hostile.encoded("JPEG", size=(63, 47))).photo
    assert kept is not None
    db.commit()
    referenced = storage.path_of(kept.original_ref)
    # A crash after the file was put in place and before its row was committed.
    orphan = storage.path_of(
        storage.original_ref(organisation_id=c.org.id, sha256="ab" * 32, extension="jpg")
    )
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"a child's photo")
    young_orphan = orphan.with_name("cd" * 32 + ".jpg")
    young_orphan.write_bytes(b"an upload still committing elsewhere")
    stale_part = storage.new_incoming_file()
    fresh_part = storage.new_incoming_file()
    for path in (referenced, orphan, stale_part):
        age(path, 60)

    processing.start_up(db, utcnow())

    assert referenced.is_file() and young_orphan.is_file() and fresh_part.is_file()
    assert not orphan.exists() and not stale_part.exists()
    assert db.exec(select(Photo).where(Photo.id == kept.id)).one()
    fresh_part.unlink()
    young_orphan.unlink()
