"""The photo pipeline on real photos and the real models: upload, analyse, identify, judge."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.consent.policy import VerdictAction
from consentlens.core.tables import utcnow
from consentlens.faces import derivatives, enrollment, processing, serving, verdicts
from consentlens.faces.models import Face, FaceState, ReferenceFace, StoredVerdict
from consentlens.photos import storage
from consentlens.photos.models import PhotoStatus
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos
from tests.images import covered_fraction


def test_group_photo_is_analysed_identified_and_judged(db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_consent.decide(
        db, c.org, c.biden, c.guardian, {"face_recognition": True, "website": False}
    )
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    make_photos.enroll(db, c.org, c.biden, "portraits/biden_1.jpg")
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["groups/obama_and_biden.jpg"])
    assert photo.status == PhotoStatus.PENDING

    processed = processing.process_next(session=db)
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


def faces_of(db, photo):
    return db.exec(select(Face).where(Face.photo_id == photo.id).order_by(Face.id)).all()


def verdicts_of(db, photo):
    return {
        v.use_code: v
        for v in db.exec(select(StoredVerdict).where(StoredVerdict.photo_id == photo.id))
    }


def test_pending_photo_is_hidden_in_every_use(db):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["portraits/kit_harington_1.jpeg"])
    (evaluation,) = verdicts.evaluate(session=db, organisation=c.org, photos=[photo], now=utcnow())
    assert {v.action for v in evaluation.verdicts.values()} == {VerdictAction.HIDE}


def test_rotated_photo_is_analysed_upright(db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["portraits/obama_2_exif_rotated.jpg"])
    with Image.open(make_photos.FACES / "portraits/obama_2.jpg") as upright:
        assert (photo.width, photo.height) == upright.size
    processing.process_next(session=db)
    (face,) = faces_of(db, photo)
    assert face.state == FaceState.IDENTIFIED and face.child_id == c.obama.id
    assert face.x + face.w <= photo.width and face.y + face.h <= photo.height
    assert verdicts_of(db, photo)["website"].action == "show"


def test_strangers_stay_unknown_and_wait_for_review(db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    ev = make_photos.event(db, c)
    photos = make_photos.upload(db, c, ev, ["portraits/kit_harington_1.jpeg", "negative/dogs.jpg"])
    while processing.process_next(session=db):
        pass
    stranger, dogs = photos
    db.refresh(stranger)
    db.refresh(dogs)
    assert [f.state for f in faces_of(db, stranger)] == [FaceState.UNKNOWN]
    assert stranger.status == PhotoStatus.NEEDS_REVIEW
    assert verdicts_of(db, stranger)["website"].action == "blur"
    assert verdicts_of(db, stranger)["social_media"].action == "hide"
    assert dogs.status == PhotoStatus.READY and faces_of(db, dogs) == []
    assert verdicts_of(db, dogs)["website"].action == "show"


def test_enrollment_is_refused_without_face_recognition_consent(db):
    c = make_photos.club(db)
    make_consent.decide(
        db, c.org, c.obama, c.guardian, {"website": True, "face_recognition": False}
    )
    with pytest.raises(enrollment.EnrollmentRefused) as refused:
        make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    assert refused.value.conflict
    assert db.exec(select(ReferenceFace)).all() == []


def test_withdrawing_face_recognition_deletes_references_and_reblurs(db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["portraits/obama_2.jpg"])
    processing.process_next(session=db)
    assert verdicts_of(db, photo)["website"].action == "show"

    make_consent.decide(db, c.org, c.obama, c.guardian, {"face_recognition": False})

    # Within the same transaction as the decision: no request can see the old verdict.
    assert db.exec(select(ReferenceFace).where(ReferenceFace.child_id == c.obama.id)).all() == []
    (face,) = faces_of(db, photo)
    assert face.child_id is None and face.state == FaceState.UNKNOWN and face.embedding is None
    website = verdicts_of(db, photo)["website"]
    assert website.action == "blur" and website.faces_to_blur == [face.id]
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.subject_id == str(c.obama.id)))
    assert "photos.references_deleted" in set(actions)


def test_withdrawing_a_use_reblurs_only_that_use(db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["portraits/obama_2.jpg"])
    processing.process_next(session=db)
    served = serving.image(
        session=db, organisation=c.org, photo=photo, use="website", size="thumb", now=utcnow()
    )

    make_consent.decide(db, c.org, c.obama, c.guardian, {"website": False})

    after = verdicts_of(db, photo)
    assert after["website"].action == "blur"
    assert after["internal_gallery"].action == "show"
    reblurred = serving.image(
        session=db, organisation=c.org, photo=photo, use="website", size="thumb", now=utcnow()
    )
    assert reblurred != served
    (face,) = faces_of(db, photo)
    assert covered_fraction(reblurred, photo, face) > 0.9
    assert covered_fraction(served, photo, face) < 0.1


def test_an_expired_consent_is_blurred_when_served_even_before_maintenance(db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["portraits/obama_2.jpg"])
    processing.process_next(session=db)
    website = verdicts_of(db, photo)["website"]
    assert website.action == "show" and website.valid_until is not None

    later = website.valid_until + timedelta(seconds=1)
    evaluation = serving.current_evaluation(session=db, organisation=c.org, photo=photo, now=later)
    assert evaluation.verdicts["website"].action is VerdictAction.BLUR
    assert verdicts_of(db, photo)["website"].action == "blur"


def test_an_enrolled_reference_rematches_faces_waiting_for_review(db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["portraits/obama_2.jpg"])
    processing.process_next(session=db)
    assert [f.state for f in faces_of(db, photo)] == [FaceState.UNKNOWN]

    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")

    (face,) = faces_of(db, photo)
    assert face.state == FaceState.IDENTIFIED and face.child_id == c.obama.id
    db.refresh(photo)
    assert photo.status == PhotoStatus.READY
    assert verdicts_of(db, photo)["website"].action == "show"


def test_a_rendering_left_for_a_reused_photo_id_is_never_served_for_other_content(db):
    # SQLite reuses the highest id after a rolled-back insert: the derivative folder of photo N
    # may hold renderings of an earlier photo N. They are named after their original, so the
    # new photo's bytes are rendered from its own file.
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    first, second = make_photos.upload(
        db, c, ev, ["portraits/obama_2.jpg", "portraits/kit_harington_2.jpeg"]
    )
    processing.process_next(session=db)
    processing.process_next(session=db)

    def served(photo):
        data = serving.image(
            session=db, organisation=c.org, photo=photo, use="internal_gallery", size="thumb",
            now=utcnow(),
        )  # fmt: skip
        return Image.open(io.BytesIO(data)).size

    size_of_first = served(first)
    # Photo `first` now stands for other content (what a reused id would hold): same faces and
    # verdicts as before, another original.
    first.original_ref, first.width, first.height = second.original_ref, second.width, second.height
    db.add(first)
    db.flush()
    assert served(first) == served(second) != size_of_first


def test_an_analysed_photo_is_gallery_ready_with_every_rendering_on_disk(db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_consent.grant_all(db, c.org, c.biden, c.guardian)
    make_consent.decide(db, c.org, c.biden, c.guardian, {"website": False})
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    make_photos.enroll(db, c.org, c.biden, "portraits/biden_1.jpg")
    (photo,) = make_photos.upload(db, c, make_photos.event(db, c), ["groups/obama_and_biden.jpg"])
    processing.process_next(session=db)
    db.refresh(photo)
    assert photo.status in (PhotoStatus.READY, PhotoStatus.NEEDS_REVIEW)
    (evaluation,) = verdicts.evaluate(session=db, organisation=c.org, photos=[photo], now=utcnow())
    wanted = verdicts.current_derivatives(evaluation=evaluation, organisation=c.org)
    files = {path.name for path in storage.derivative_dir(photo.id).iterdir()}
    assert {name for name in wanted if not name.endswith("-hidden")} == files
    assert len(files) == 4  # thumb and display with biden covered (website), and without

    # Served from those files: the original is not even opened again.
    original = storage.path_of(photo.original_ref)
    original.rename(original.with_suffix(".gone"))
    boxes = {face.id: face.box for face in evaluation.faces}
    names = {
        (use, size): derivatives.file_name(
            original=photo.original_ref, verdict=verdict, boxes=boxes, size=size
        )
        for use, verdict in evaluation.verdicts.items()
        for size in derivatives.SIZES
    }
    for use, verdict in evaluation.verdicts.items():
        for size in ("thumb", "display"):
            if verdict.action is VerdictAction.HIDE:
                with pytest.raises(serving.NotServable):
                    serving.image(
                        session=db, organisation=c.org, photo=photo, use=use, size=size,
                        now=utcnow(),
                    )  # fmt: skip
                continue
            data = serving.image(
                session=db, organisation=c.org, photo=photo, use=use, size=size, now=utcnow()
            )
            assert data == (storage.derivative_dir(photo.id) / names[use, size]).read_bytes()
