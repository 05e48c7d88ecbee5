"""The staff review queue: faces recognition could not settle, grouped by likeness, and the
choices staff make about them."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.core.i18n import N_
from consentlens.faces import analysis, enrollment
from consentlens.faces.grouping import group_similar
from consentlens.faces.models import REVIEW_STATES, Face, FaceState
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child
from consentlens.photos.models import Event, Photo


class Choice(enum.StrEnum):
    CHILD = "child"  # this is (the suggested or another) child of ours
    STRANGER = "stranger"  # not a child of our club: stays blurred
    NOT_A_FACE = "not_a_face"  # the detector was wrong


class ReviewError(ValueError):
    """A review choice that cannot be applied; `message` is a msgid, `params` fill it."""

    def __init__(self, message: str, **params: str) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


@dataclass(frozen=True, slots=True)
class FaceGroup:
    """Faces of one event that look like the same person, with the best suggestion."""

    faces: tuple[Face, ...]
    suggested_child_id: int | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a review choice did, for the message staff see."""

    faces: int
    named: Child | None
    # The child was named but may not be recognised: the faces stay blurred and unlinked.
    kept_unknown: bool
    references_added: int


def get_face(
    *, session: Session, organisation: Organisation, face_id: int
) -> tuple[Face, Photo] | None:
    """A face of this organisation's photos, with its photo; None for another club's or none."""
    row = session.exec(
        select(Face, Photo)
        .join(Photo, col(Photo.id) == Face.photo_id)
        .where(col(Face.id) == face_id, Photo.organisation_id == organisation.id)
    ).first()
    return None if row is None else (row[0], row[1])


def pending_faces(*, session: Session, event: Event) -> list[Face]:
    return list(
        session.exec(
            select(Face)
            .join(Photo, col(Photo.id) == Face.photo_id)
            .where(
                Photo.event_id == event.id,
                col(Face.state).in_(REVIEW_STATES),
                col(Face.reviewed_at).is_(None),
            )
            .order_by(col(Face.photo_id), col(Face.id))
        )
    )


def queue(*, session: Session, event: Event) -> list[FaceGroup]:
    """The event's faces awaiting review, grouped so that one choice can label a person."""
    faces = pending_faces(session=session, event=event)
    embeddings = [analysis.decode(f.embedding) if f.embedding else None for f in faces]
    groups = []
    for indices in group_similar(embeddings=embeddings):
        members = tuple(faces[i] for i in indices)
        suggestions = Counter(f.suggested_child_id for f in members if f.suggested_child_id)
        suggested = suggestions.most_common(1)[0][0] if suggestions else None
        groups.append(FaceGroup(members, suggested))
    return groups


def decide(
    *,
    session: Session,
    organisation: Organisation,
    event: Event,
    face_ids: Sequence[int],
    choice: Choice,
    child_id: int | None,
    user: User,
    now: datetime,
    origin: audit.Origin | None = None,
) -> Outcome:
    """Apply one staff choice to some faces awaiting review in `event`; audited, photos re-judged.

    Only faces the event's review queue offers may be decided: a face identified, too small to
    recognise, or of another event is refused, whatever a hand-made request names.
    """
    if not face_ids:
        raise ReviewError(N_("Select at least one face."))
    faces = list(
        session.exec(
            select(Face)
            .join(Photo, col(Photo.id) == Face.photo_id)
            .where(col(Face.id).in_(face_ids), Photo.organisation_id == organisation.id)
        )
    )
    if len(faces) != len(set(face_ids)):
        raise ReviewError(N_("Some of these faces no longer exist. Reload the page."))
    if any(face.reviewed_at is not None for face in faces):
        raise ReviewError(N_("Someone has already reviewed some of these faces. Reload the page."))
    events = set(
        session.exec(
            select(Photo.event_id).where(col(Photo.id).in_({face.photo_id for face in faces}))
        )
    )
    if events != {event.id} or any(face.state not in REVIEW_STATES for face in faces):
        raise ReviewError(
            N_("Some of these faces are not waiting for review here. Reload the page.")
        )
    child: Child | None = None
    if choice is Choice.CHILD:
        child = session.get(Child, child_id) if child_id is not None else None
        if child is None or child.organisation_id != organisation.id:
            raise ReviewError(N_("Choose the child this is."))
        if child.archived_at is not None:
            raise ReviewError(N_("{name} is archived."), name=child.full_name)
    allowed = child is not None and enrollment.may_recognise(
        session=session, organisation=organisation, child=child, now=now
    )
    references = 0
    for face in faces:
        before = face.state
        if choice is Choice.NOT_A_FACE:
            face.state = FaceState.NOT_A_FACE.value
        elif choice is Choice.CHILD and allowed:
            assert child is not None
            face.state = FaceState.CONFIRMED.value
            face.child_id = child.id
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
        else:
            # A stranger, or a child who may not be recognised: unknown, so it stays blurred.
            face.state = FaceState.UNKNOWN.value
            face.child_id = None
        face.suggested_child_id = None
        face.reviewed_at = now
        face.reviewed_by_id = user.id
        # Reviewed: nothing needs this face's likeness any more (a named face's is now a reference).
        face.embedding = None
        session.add(face)
        audit.record(
            session=session,
            action="photos.face_reviewed",
            organisation_id=organisation.id,
            actor_id=user.id,
            subject_type="face",
            subject_id=face.id,
            details={
                "photo_id": face.photo_id,
                "choice": choice.value,
                "child_id": child.id if child else None,
                "before": before,
                "after": face.state,
            },
            origin=origin,
        )
    session.flush()
    if references:
        enrollment.rematch_pending(session=session, organisation=organisation, now=now)
    enrollment.settle(
        session=session,
        organisation=organisation,
        photo_ids={face.photo_id for face in faces},
        now=now,
    )
    return Outcome(len(faces), child, choice is Choice.CHILD and not allowed, references)
