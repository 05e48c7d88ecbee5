"""From detected faces to stored faces: match against the enrolled references, then judge.

`analyse_file` runs in worker processes (it holds the face models); `apply` runs where the
database is, with the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np
from sqlmodel import Session, col, select, update

from consentlens.consent import service as consent
from consentlens.consent.policy import FaceStatus
from consentlens.consent.uses import Use
from consentlens.faces import verdicts
from consentlens.faces.detector import DetectedFace, FaceEngine, PhotoFaces
from consentlens.faces.matching import MatchResult, Reference, ReferenceSet, match_face
from consentlens.faces.models import REVIEW_STATES, Face, FaceState, ReferenceFace
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child
from consentlens.photos.models import Photo, PhotoStatus

_engine: FaceEngine | None = None


def engine() -> FaceEngine:
    """This process's face engine (models load on first use)."""
    global _engine
    if _engine is None:
        _engine = FaceEngine()
    return _engine


def analyse_file(path: str) -> PhotoFaces:
    """Detect and embed the faces of one stored original (picklable, for worker processes)."""
    return engine().analyse(path)


def analyse_share(path: str, *, share: int, shares: int) -> PhotoFaces:
    """Detect the faces of a photo and embed the `share`-th of `shares` parts of them."""
    return engine().analyse(path, (share, shares))


def warm_up() -> None:
    engine().warm_up()


def encode(embedding: Sequence[float]) -> bytes:
    return np.asarray(embedding, dtype=np.float32).tobytes()


def decode(blob: bytes) -> tuple[float, ...]:
    return tuple(float(v) for v in np.frombuffer(blob, dtype=np.float32))


def recognisable_children(
    *, session: Session, organisation: Organisation, child_ids: Iterable[int], now: datetime
) -> set[int]:
    """Those of `child_ids` (of this organisation) whose face-recognition consent is effective."""
    uses = [
        use
        for use in consent.list_uses(session=session, organisation=organisation)
        if use.code == Use.FACE_RECOGNITION
    ]
    children = list(
        session.exec(
            select(Child).where(
                Child.organisation_id == organisation.id,
                col(Child.id).in_(set(child_ids)),
                col(Child.archived_at).is_(None),
            )
        )
    )
    if not uses or not children:
        return set()
    consents = consent.effective_consents(
        session=session, organisation=organisation, children=children, uses=uses, now=now
    )
    return {
        child_id
        for (child_id, _), effective in consents.items()
        if effective.granted and child_id is not None
    }


def reference_set(*, session: Session, organisation: Organisation, now: datetime) -> ReferenceSet:
    """The references matching may use now: only of children who may be recognised."""
    rows = session.exec(
        select(ReferenceFace.child_id, ReferenceFace.embedding)
        .where(ReferenceFace.organisation_id == organisation.id)
        .order_by(col(ReferenceFace.id))
    ).all()
    allowed = recognisable_children(
        session=session,
        organisation=organisation,
        child_ids={child_id for child_id, _ in rows},
        now=now,
    )
    return ReferenceSet.build(
        Reference(child_id, decode(blob)) for child_id, blob in rows if child_id in allowed
    )


def _state_of(result: MatchResult) -> FaceState:
    return {
        FaceStatus.IDENTIFIED: FaceState.IDENTIFIED,
        FaceStatus.UNCERTAIN: FaceState.UNCERTAIN,
        FaceStatus.TOO_SMALL: FaceState.TOO_SMALL,
    }.get(result.status, FaceState.UNKNOWN)


def set_match(*, face: Face, result: MatchResult) -> None:
    """Record what matching said about a face."""
    state = _state_of(result)
    face.state = state.value
    person = int(result.person_id) if result.person_id is not None else None
    face.child_id = person if state is FaceState.IDENTIFIED else None
    face.suggested_child_id = person if state is FaceState.UNCERTAIN else None
    face.distance = result.distance
    face.match_reason = result.reason[:300]


def _new_face(photo_id: int, detected: DetectedFace, references: ReferenceSet) -> Face:
    x, y, w, h = detected.box
    face = Face(
        photo_id=photo_id,
        x=x,
        y=y,
        w=w,
        h=h,
        score=detected.score,
        state=FaceState.UNKNOWN.value,
        embedding=encode(detected.embedding) if detected.embedding is not None else None,
    )
    set_match(face=face, result=match_face(embedding=detected.embedding, references=references))
    return face


def status_after_faces(faces: Sequence[Face]) -> PhotoStatus:
    pending = any(f.state in REVIEW_STATES and f.reviewed_at is None for f in faces)
    return PhotoStatus.NEEDS_REVIEW if pending else PhotoStatus.READY


def apply(
    *,
    session: Session,
    organisation: Organisation,
    photo: Photo,
    result: PhotoFaces,
    now: datetime,
) -> list[Face]:
    """Store the faces of an analysed photo, their identification and the photo's verdicts."""
    assert photo.id is not None
    # A photo analysed again (after a crash) starts from a clean slate.
    session.exec(
        update(ReferenceFace)
        .where(col(ReferenceFace.face_id).in_(select(Face.id).where(Face.photo_id == photo.id)))
        .values(face_id=None)
    )
    for old in session.exec(select(Face).where(Face.photo_id == photo.id)):
        session.delete(old)
    session.flush()
    references = reference_set(session=session, organisation=organisation, now=now)
    faces = [_new_face(photo.id, detected, references) for detected in result.faces]
    session.add_all(faces)
    photo.width, photo.height = result.original_size
    photo.status = status_after_faces(faces).value
    photo.error = ""
    photo.analysed_at = now
    photo.claimed_at = None
    session.add(photo)
    session.flush()
    # The analysis renders the photo itself (processing.store): no render job.
    verdicts.refresh(
        session=session,
        organisation=organisation,
        photo_ids=[photo.id],
        now=now,
        rendering_here=True,
    )
    return faces
