"""Correcting a face from the photo page, on real photos and the real models: removing a name,
naming another child, marking a face as not a face; audited, and the photo re-judged at once."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from consentlens.audit.models import AuditEvent
from consentlens.core.tables import utcnow
from consentlens.faces import corrections, processing, review
from consentlens.faces.corrections import Correction
from consentlens.faces.models import Face, FaceState, ReferenceFace
from consentlens.faces.review import ReviewError
from consentlens.photos.models import Photo, PhotoStatus
from tests import factories
from tests.faces.test_review_pages import blurred
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos
from tests.factories.photos import Club, analysed_group_photo, faces_of, unknown_faces


def _correct(
    db: Session, c: Club, face: Face, correction: Correction, child_id: int | None = None
) -> corrections.Corrected:
    return corrections.correct(
        session=db,
        organisation=c.org,
        face=face,
        correction=correction,
        child_id=child_id,
        expected_state=face.state,
        user=c.staff,
        now=utcnow(),
    )


def _audited(db: Session, face: Face) -> list[AuditEvent]:
    return list(
        db.exec(
            select(AuditEvent)
            .where(
                AuditEvent.action == "photos.face_corrected", AuditEvent.subject_id == str(face.id)
            )
            .order_by(AuditEvent.id)  # type: ignore[arg-type]
        )
    )


def _named(db: Session, photo: Photo) -> Face:
    return next(face for face in faces_of(db, photo) if face.state == FaceState.IDENTIFIED)


def test_removing_a_name_blurs_the_face_at_once_and_sends_it_back_to_review(db):
    c, ev, photo = analysed_group_photo(db)
    obama_face = _named(db, photo)
    assert obama_face.child_id == c.obama.id
    assert obama_face.id not in blurred(db, photo, "internal_gallery")

    done = _correct(db, c, obama_face, Correction.UNNAME)

    assert done.named is None and not done.kept_unknown
    db.refresh(obama_face)
    assert obama_face.state == FaceState.UNKNOWN and obama_face.child_id is None
    # Without its likeness, matching cannot name it again behind staff's back.
    assert obama_face.embedding is None and obama_face.reviewed_at is None
    assert obama_face.id in blurred(db, photo, "internal_gallery")
    db.refresh(photo)
    assert photo.status == PhotoStatus.NEEDS_REVIEW
    assert obama_face.id in [f.id for f in review.pending_faces(session=db, event=ev)]
    (event,) = _audited(db, obama_face)
    assert event.actor_id == c.staff.id
    assert event.details == {
        "photo_id": photo.id,
        "correction": "unname",
        "before": "identified",
        "after": "unknown",
        "child_before": c.obama.id,
        "child_after": None,
        "references_withdrawn": 0,
    }

    # Named again: confirmed by staff, shown where Obama's consent allows it.
    done = _correct(db, c, obama_face, Correction.NAME, c.obama.id)
    assert done.named == c.obama
    db.refresh(obama_face)
    assert obama_face.state == FaceState.CONFIRMED and obama_face.child_id == c.obama.id
    assert obama_face.reviewed_by_id == c.staff.id
    assert obama_face.id not in blurred(db, photo, "internal_gallery")
    assert [e.details["correction"] for e in _audited(db, obama_face)] == ["unname", "name"]


def test_naming_another_child_moves_the_likeness_it_taught_recognition(db):
    c, ev, photo = analysed_group_photo(db)
    biden_face, _ = unknown_faces(db, photo)
    review.decide(
        session=db,
        organisation=c.org,
        event=ev,
        face_ids=[biden_face.id],
        choice=review.Choice.CHILD,
        child_id=c.biden.id,
        user=c.staff,
        now=utcnow(),
    )
    db.refresh(biden_face)
    (taught,) = db.exec(select(ReferenceFace).where(ReferenceFace.face_id == biden_face.id))
    assert taught.child_id == c.biden.id
    # Obama's website consent is granted, Biden's is not on record.
    assert biden_face.id in blurred(db, photo, "website")

    _correct(db, c, biden_face, Correction.NAME, c.obama.id)

    db.refresh(biden_face)
    assert biden_face.state == FaceState.CONFIRMED and biden_face.child_id == c.obama.id
    references = db.exec(select(ReferenceFace).where(ReferenceFace.face_id == biden_face.id)).all()
    assert [r.child_id for r in references] == [c.obama.id]
    assert biden_face.id not in blurred(db, photo, "website")
    (event,) = _audited(db, biden_face)
    assert event.details["child_before"] == c.biden.id
    assert event.details["child_after"] == c.obama.id
    assert event.details["references_withdrawn"] == 1


def test_a_face_recognised_only_through_a_withdrawn_likeness_is_blurred_again(db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    ev = make_photos.event(db, c)
    first, second = make_photos.upload(
        db, c, ev, ["portraits/kit_harington_1.jpeg", "portraits/kit_harington_2.jpeg"]
    )
    while processing.process_next(session=db):
        pass
    (kit_first,) = faces_of(db, first)
    (kit_second,) = faces_of(db, second)
    # Kit named as Barack by mistake: his other photo is now recognised as Barack too.
    review.decide(
        session=db,
        organisation=c.org,
        event=ev,
        face_ids=[kit_first.id],
        choice=review.Choice.CHILD,
        child_id=c.obama.id,
        user=c.staff,
        now=utcnow(),
    )
    db.refresh(kit_second)
    assert kit_second.state == FaceState.IDENTIFIED and kit_second.child_id == c.obama.id
    assert kit_second.id not in blurred(db, second, "internal_gallery")

    db.refresh(kit_first)
    _correct(db, c, kit_first, Correction.UNNAME)

    db.refresh(kit_second)
    assert kit_second.child_id is None and kit_second.state in ("unknown", "uncertain")
    assert kit_second.id in blurred(db, second, "internal_gallery")
    assert kit_first.id in blurred(db, first, "internal_gallery")
    assert db.exec(select(ReferenceFace).where(ReferenceFace.child_id == c.obama.id)).all() == []


def test_not_a_face_and_back(db):
    c, _ev, photo = analysed_group_photo(db)
    _, child_face = unknown_faces(db, photo)
    assert child_face.id in blurred(db, photo, "internal_gallery")

    _correct(db, c, child_face, Correction.NOT_A_FACE)
    db.refresh(child_face)
    assert child_face.state == FaceState.NOT_A_FACE and child_face.reviewed_at is not None
    assert child_face.id not in blurred(db, photo, "internal_gallery")

    # A face after all: unknown and blurred again, waiting for review.
    _correct(db, c, child_face, Correction.UNNAME)
    db.refresh(child_face)
    assert child_face.state == FaceState.UNKNOWN and child_face.reviewed_at is None
    assert child_face.id in blurred(db, photo, "internal_gallery")
    assert [e.details["after"] for e in _audited(db, child_face)] == ["not_a_face", "unknown"]


def test_a_child_who_may_not_be_recognised_keeps_the_face_blurred(db):
    c, _ev, photo = analysed_group_photo(db)
    obama_face = _named(db, photo)
    stranger = factories.child(db, c.org, first_name="Nora")

    done = _correct(db, c, obama_face, Correction.NAME, stranger.id)

    assert done.kept_unknown
    db.refresh(obama_face)
    assert obama_face.state == FaceState.UNKNOWN and obama_face.child_id is None
    assert obama_face.reviewed_at is not None
    assert obama_face.id in blurred(db, photo, "internal_gallery")


def test_corrections_that_cannot_be_applied_change_nothing(db):
    c, _ev, photo = analysed_group_photo(db)
    obama_face = _named(db, photo)
    other = factories.organisation(db)
    outsider = factories.child(db, other, first_name="Elsewhere")
    archived = factories.child(db, c.org, first_name="Gone")
    archived.archived_at = utcnow()
    db.add(archived)
    db.flush()
    cases = [
        (Correction.NAME, None, "Choose the child this is."),
        (Correction.NAME, outsider.id, "Choose the child this is."),
        (Correction.NAME, archived.id, "{name} is archived."),
    ]
    for correction, child_id, message in cases:
        with pytest.raises(ReviewError) as raised:
            _correct(db, c, obama_face, correction, child_id)
        assert raised.value.message == message
    with pytest.raises(ReviewError) as raised:
        corrections.correct(
            session=db,
            organisation=c.org,
            face=obama_face,
            correction=Correction.UNNAME,
            child_id=None,
            expected_state="unknown",  # what an old page showed
            user=c.staff,
            now=utcnow(),
        )
    assert raised.value.message == corrections.STALE
    db.refresh(obama_face)
    assert obama_face.state == FaceState.IDENTIFIED and obama_face.child_id == c.obama.id
    assert _audited(db, obama_face) == []


@pytest.mark.parametrize(
    ("state", "offered"),
    [
        ("identified", {"name", "unname", "not_a_face"}),
        ("confirmed", {"name", "unname", "not_a_face"}),
        ("uncertain", {"name", "not_a_face"}),
        ("unknown", {"name", "not_a_face"}),
        ("not_a_face", {"name", "unname"}),
        # Too small to recognise: nobody can be sure who it is, so it is never named.
        ("too_small", {"not_a_face"}),
    ],
)
def test_each_state_offers_its_corrections(state, offered):
    assert {c.value for c in corrections.allowed(state)} == offered
