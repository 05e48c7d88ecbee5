"""Staff correcting a face on the photo page: remove its name, name another child, or say it is
not a face. The undo of a review choice, so it goes through the same re-judging as review does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.core.i18n import N_
from consentlens.faces import analysis, enrollment
from consentlens.faces.matching import match_face
from consentlens.faces.models import NAMED_STATES, Face, FaceState, ReferenceFace
from consentlens.faces.review import ReviewError
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child
from consentlens.photos.models import Photo

# The face changed since the page was shown (409): the correction was made on an old view.
STALE = N_("This face changed since the page was opened. Look again.")


class Correction(enum.StrEnum):
    NAME = "name"  # this is (another) child of ours
    UNNAME = "unname"  # the name was wrong: unknown and blurred, back in the review queue
    NOT_A_FACE = "not_a_face"  # the detector was wrong


@dataclass(frozen=True, slots=True)
class Corrected:
    """What a correction did, for the message staff see."""

    face: Face
    correction: Correction
    named: Child | None
    # The child was chosen but may not be recognised: the face stays blurred and unlinked.
    kept_unknown: bool


def allowed(state: str) -> frozenset[Correction]:
    """The corrections a face in `state` offers; a face too small to recognise cannot be named."""
    if state in NAMED_STATES:
        return frozenset(Correction)
    if state == FaceState.NOT_A_FACE.value:
        return frozenset({Correction.UNNAME, Correction.NAME})
    if state == FaceState.TOO_SMALL.value:
        return frozenset({Correction.NOT_A_FACE})
    return frozenset({Correction.NAME, Correction.NOT_A_FACE})


def correct(
    *,
    session: Session,
    organisation: Organisation,
    face: Face,
    correction: Correction,
    child_id: int | None,
    expected_state: str,
    user: User,
    now: datetime,
    origin: audit.Origin | None = None,
) -> Corrected:
    """Apply one staff correction to a face of the organisation; audited, photos re-judged now.

    `expected_state` is the state the page showed: a face changed since is refused (409) rather
    than corrected on a view the staff member never saw.
    """
    if face.state != expected_state:
        raise ReviewError(STALE)
    if correction not in allowed(face.state):
        raise ReviewError(N_("This face cannot be changed that way."))
    child: Child | None = None
    if correction is Correction.NAME:
        child = session.get(Child, child_id) if child_id is not None else None
        if child is None or child.organisation_id != organisation.id:
            raise ReviewError(N_("Choose the child this is."))
        if child.archived_at is not None:
            raise ReviewError(N_("{name} is archived."), name=child.full_name)
    before = (face.state, face.child_id)
    # A likeness taken from this face was taught to recognition under the old name: it goes,
    # else the wrong child keeps being recognised from it.
    embedding, withdrawn = _withdraw_references(session=session, face=face)
    allowed_child = child is not None and enrollment.may_recognise(
        session=session, organisation=organisation, child=child, now=now
    )
    references = 0
    if correction is Correction.NAME and allowed_child:
        assert child is not None
        face.state = FaceState.CONFIRMED.value
        face.child_id = child.id
        face.embedding = embedding
        added = enrollment.enroll_from_face(
            session=session,
            organisation=organisation,
            child=child,
            face=face,
            user=user,
            now=now,
            origin=origin,
            rematch=False,
        )
        references += added is not None
    elif correction is Correction.NOT_A_FACE:
        face.state = FaceState.NOT_A_FACE.value
        face.child_id = None
    else:
        # Unnamed, or a child who may not be recognised: unknown, so it is blurred.
        face.state = FaceState.UNKNOWN.value
        face.child_id = None
    face.suggested_child_id = None
    # No likeness is kept: with it, matching could name the face again behind staff's back.
    face.embedding = None
    if correction is Correction.UNNAME:
        # Back in the event's review queue, for someone who knows who this is.
        face.reviewed_at = None
        face.reviewed_by_id = None
    else:
        face.reviewed_at = now
        face.reviewed_by_id = user.id
    session.add(face)
    photo_ids = {face.photo_id}
    if withdrawn:
        photo_ids |= _rematch_identified(
            session=session, organisation=organisation, child_ids=withdrawn, now=now
        )
    audit.record(
        session=session,
        action="photos.face_corrected",
        organisation_id=organisation.id,
        actor_id=user.id,
        subject_type="face",
        subject_id=face.id,
        details={
            "photo_id": face.photo_id,
            "correction": correction.value,
            "before": before[0],
            "after": face.state,
            "child_before": before[1],
            "child_after": face.child_id,
            "references_withdrawn": len(withdrawn),
        },
        origin=origin,
    )
    session.flush()
    if references or withdrawn:
        enrollment.rematch_pending(session=session, organisation=organisation, now=now)
    enrollment.settle(session=session, organisation=organisation, photo_ids=photo_ids, now=now)
    return Corrected(face, correction, child, correction is Correction.NAME and not allowed_child)


def _withdraw_references(*, session: Session, face: Face) -> tuple[bytes | None, list[int]]:
    """Delete the references taken from this face; its likeness and whose references they were."""
    embedding = face.embedding
    children = []
    for reference in session.exec(select(ReferenceFace).where(ReferenceFace.face_id == face.id)):
        embedding = embedding or reference.embedding
        children.append(reference.child_id)
        session.delete(reference)
    session.flush()
    return embedding, children


def _rematch_identified(
    *, session: Session, organisation: Organisation, child_ids: list[int], now: datetime
) -> set[int]:
    """Faces recognised automatically as these children, matched again without the withdrawn
    references: one that no longer matches becomes uncertain or unknown (blurred, for review)."""
    references = analysis.reference_set(session=session, organisation=organisation, now=now)
    changed = set()
    for face in session.exec(
        select(Face)
        .join(Photo, col(Photo.id) == Face.photo_id)
        .where(
            Photo.organisation_id == organisation.id,
            Face.state == FaceState.IDENTIFIED.value,
            col(Face.child_id).in_(child_ids),
            col(Face.embedding).is_not(None),
        )
    ):
        assert face.embedding is not None
        before = (face.state, face.child_id)
        analysis.set_match(
            face=face,
            result=match_face(embedding=analysis.decode(face.embedding), references=references),
        )
        if (face.state, face.child_id) != before:
            session.add(face)
            changed.add(face.photo_id)
    session.flush()
    return changed
