"""Reference faces of children: enrolled only with face-recognition consent, gone without it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, delete, select

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.consent import events
from consentlens.consent.uses import Use
from consentlens.core.i18n import N_
from consentlens.core.tables import utcnow
from consentlens.faces import analysis, verdicts
from consentlens.faces.imaging import UnreadablePhoto
from consentlens.faces.matching import match_face
from consentlens.faces.models import REVIEW_STATES, Face, FaceState, ReferenceFace
from consentlens.organisations.models import Organisation
from consentlens.people import events as people_events
from consentlens.people.models import Child
from consentlens.photos.models import Photo, PhotoStatus


class EnrollmentRefused(ValueError):
    """No reference may be stored; `message` is a msgid shown to staff, `params` fill it."""

    def __init__(self, message: str, conflict: bool = False, **params: str) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params
        # True when consent is missing (HTTP 409), False when the photo is unusable (422).
        self.conflict = conflict


def may_recognise(
    *, session: Session, organisation: Organisation, child: Child, now: datetime
) -> bool:
    assert child.id is not None
    return child.id in analysis.recognisable_children(
        session=session, organisation=organisation, child_ids=[child.id], now=now
    )


def require_recognition_consent(
    *, session: Session, organisation: Organisation, child: Child, now: datetime
) -> None:
    if not may_recognise(session=session, organisation=organisation, child=child, now=now):
        raise EnrollmentRefused(
            N_(
                "{name} has no face-recognition consent on record, so no reference face may be "
                "stored. Their faces stay blurred."
            ),
            conflict=True,
            name=child.full_name,
        )


def enroll_portrait(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    path: Path,
    user: User | None,
    now: datetime,
    origin: audit.Origin | None = None,
) -> ReferenceFace:
    """Store the embedding of a portrait (the image itself is not kept) and re-match photos."""
    require_recognition_consent(session=session, organisation=organisation, child=child, now=now)
    try:
        found = analysis.analyse_file(str(path))
    except UnreadablePhoto:
        raise EnrollmentRefused(
            N_("This is not a photo ConsentLens can read. Use JPEG, PNG, WebP or HEIC.")
        ) from None
    usable = [face for face in found.faces if face.embedding is not None]
    if not found.faces:
        raise EnrollmentRefused(N_("No face was found. Upload a clear photo of the face."))
    if len(found.faces) > 1:
        raise EnrollmentRefused(
            N_("The photo shows {count} faces. Upload a portrait of {name} alone."),
            count=str(len(found.faces)),
            name=child.full_name,
        )
    if not usable:
        raise EnrollmentRefused(N_("The face is too small. Upload a closer portrait."))
    embedding = usable[0].embedding
    assert embedding is not None
    return _add_reference(
        session=session,
        organisation=organisation,
        child=child,
        embedding=analysis.encode(embedding),
        source="portrait",
        face=None,
        user=user,
        now=now,
        origin=origin,
    )


def enroll_from_face(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    face: Face,
    user: User | None,
    now: datetime,
    origin: audit.Origin | None = None,
    rematch: bool = True,
) -> ReferenceFace | None:
    """A face staff named in review becomes a reference, when it has an embedding."""
    require_recognition_consent(session=session, organisation=organisation, child=child, now=now)
    if face.embedding is None:
        return None
    return _add_reference(
        session=session,
        organisation=organisation,
        child=child,
        embedding=face.embedding,
        source="review",
        face=face,
        user=user,
        now=now,
        origin=origin,
        rematch=rematch,
    )


def _add_reference(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    embedding: bytes,
    source: str,
    face: Face | None,
    user: User | None,
    now: datetime,
    origin: audit.Origin | None,
    rematch: bool = True,
) -> ReferenceFace:
    assert organisation.id is not None and child.id is not None
    reference = ReferenceFace(
        organisation_id=organisation.id,
        child_id=child.id,
        embedding=embedding,
        source=source,
        face_id=face.id if face else None,
        created_by_id=user.id if user else None,
        created_at=now,
    )
    session.add(reference)
    session.flush()
    audit.record(
        session=session,
        action="photos.reference_enrolled",
        organisation_id=organisation.id,
        actor_id=user.id if user else None,
        subject_type="child",
        subject_id=child.id,
        details={"reference_id": reference.id, "source": source, "face_id": reference.face_id},
        origin=origin,
    )
    if rematch:
        rematch_pending(session=session, organisation=organisation, now=now)
    return reference


def reference_count(*, session: Session, child_id: int) -> int:
    return len(
        session.exec(select(ReferenceFace.id).where(ReferenceFace.child_id == child_id)).all()
    )


def rematch_pending(*, session: Session, organisation: Organisation, now: datetime) -> list[int]:
    """Match again every face still awaiting review (the references changed); re-judge photos."""
    references = analysis.reference_set(session=session, organisation=organisation, now=now)
    rows = session.exec(
        select(Face)
        .join(Photo, col(Photo.id) == Face.photo_id)
        .where(
            Photo.organisation_id == organisation.id,
            col(Face.state).in_(REVIEW_STATES),
            col(Face.reviewed_at).is_(None),
            col(Face.embedding).is_not(None),
        )
    ).all()
    changed: set[int] = set()
    for face in rows:
        assert face.embedding is not None
        before = (face.state, face.child_id, face.suggested_child_id)
        analysis.set_match(
            face=face,
            result=match_face(embedding=analysis.decode(face.embedding), references=references),
        )
        if (face.state, face.child_id, face.suggested_child_id) != before:
            session.add(face)
            changed.add(face.photo_id)
    session.flush()
    settle(session=session, organisation=organisation, photo_ids=changed, now=now)
    return sorted(changed)


def settle(
    *, session: Session, organisation: Organisation, photo_ids: set[int], now: datetime
) -> None:
    """Update the status and verdicts of photos whose faces changed."""
    if not photo_ids:
        return
    for photo in session.exec(select(Photo).where(col(Photo.id).in_(photo_ids))):
        if photo.status in (PhotoStatus.READY.value, PhotoStatus.NEEDS_REVIEW.value):
            faces = session.exec(select(Face).where(Face.photo_id == photo.id)).all()
            photo.status = analysis.status_after_faces(faces).value
            session.add(photo)
    session.flush()
    verdicts.refresh(session=session, organisation=organisation, photo_ids=photo_ids, now=now)


def forget_child(
    *,
    session: Session,
    organisation: Organisation,
    child_id: int,
    now: datetime,
    reason: str,
    actor_id: int | None = None,
) -> list[int]:
    """Delete a child's references and every identification of them; their faces are blurred."""
    deleted = session.exec(
        delete(ReferenceFace).where(
            col(ReferenceFace.child_id) == child_id,
            col(ReferenceFace.organisation_id) == organisation.id,
        )
    )
    faces = session.exec(
        select(Face)
        .join(Photo, col(Photo.id) == Face.photo_id)
        .where(
            Photo.organisation_id == organisation.id,
            (col(Face.child_id) == child_id) | (col(Face.suggested_child_id) == child_id),
        )
    ).all()
    photo_ids = set()
    for face in faces:
        if face.child_id == child_id:
            # Not a stranger, but no longer recognisable: unknown, reviewed, no embedding.
            face.state = FaceState.UNKNOWN.value
            face.child_id = None
            face.reviewed_at = face.reviewed_at or now
        face.suggested_child_id = None
        face.embedding = None
        face.match_reason = reason[:300]
        session.add(face)
        photo_ids.add(face.photo_id)
    session.flush()
    audit.record(
        session=session,
        action="photos.references_deleted",
        organisation_id=organisation.id,
        actor_id=actor_id,
        subject_type="child",
        subject_id=child_id,
        details={
            "references": deleted.rowcount,
            "faces_unlinked": len(faces),
            "photos": sorted(photo_ids),
            "reason": reason,
        },
    )
    settle(session=session, organisation=organisation, photo_ids=photo_ids, now=now)
    return sorted(photo_ids)


# Subscribed to `consent.events` by `consentlens.wiring` at every entry point, not on import.
def on_consent_changed(session: Session, change: events.ConsentChanged) -> None:
    """Re-judge exactly the photos a consent change affects, before the change commits."""
    organisation = session.get(Organisation, change.organisation_id)
    child = session.get(Child, change.child_id)
    if organisation is None or child is None:
        return
    now = utcnow()
    if change.use_code == Use.FACE_RECOGNITION and not may_recognise(
        session=session, organisation=organisation, child=child, now=now
    ):
        forget_child(
            session=session,
            organisation=organisation,
            child_id=change.child_id,
            now=now,
            reason="Face-recognition consent is no longer effective.",
        )
    else:
        verdicts.refresh(
            session=session,
            organisation=organisation,
            photo_ids=verdicts.photos_showing(session=session, child_id=change.child_id),
            now=now,
        )


# Subscribed to `people.events.child_archived` by `consentlens.wiring`.
def on_child_archived(session: Session, event: people_events.ChildArchived) -> None:
    """An archived child is recognised nowhere: references and identifications go, and the
    faces are covered again, before the archive commits."""
    forget_child(
        session=session,
        organisation=event.organisation,
        child_id=event.child_id,
        now=event.now,
        reason=event.reason,
        actor_id=event.actor_id,
    )
