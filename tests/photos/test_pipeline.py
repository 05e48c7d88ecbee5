"""The photo pipeline on real photos and the real models: upload, analyse, identify, judge."""

from __future__ import annotations

from sqlmodel import select

from consentlens.photos import worker
from consentlens.photos.models import Face, FaceState, PhotoStatus, StoredVerdict
from tests.photos import helpers


def test_group_photo_is_analysed_identified_and_judged(db):
    c = helpers.club(db)
    helpers.grant_all(db, c.org, c.obama, c.guardian)
    helpers.decide(db, c.org, c.biden, c.guardian, {"face_recognition": True, "website": False})
    helpers.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    helpers.enroll(db, c.org, c.biden, "portraits/biden_1.jpg")
    ev = helpers.event(db, c)
    (photo,) = helpers.upload(db, c, ev, ["groups/obama_and_biden.jpg"])
    assert photo.status == PhotoStatus.PENDING

    processed = worker.process_next(db)
    assert processed is not None and processed.id == photo.id
    db.refresh(photo)
    faces = db.exec(select(Face).where(Face.photo_id == photo.id)).all()
    named = {f.child_id: f for f in faces if f.state == FaceState.IDENTIFIED}
    assert set(named) == {c.obama.id, c.biden.id}
    verdicts = {
        v.use_code: v
        for v in db.exec(select(StoredVerdict).where(StoredVerdict.photo_id == photo.id))
    }
    website = verdicts["website"]
    assert website.action == "blur"
    assert named[c.biden.id].id in website.faces_to_blur
    assert named[c.obama.id].id not in website.faces_to_blur
    # Unanswered for biden: his face is covered in the gallery too; obama is shown.
    assert named[c.biden.id].id in verdicts["internal_gallery"].faces_to_blur
