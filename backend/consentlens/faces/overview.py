"""What staff see of an analysis: an event's progress, and one photo's faces with their reasons.

Pages render these; the queries live here so that the routes only parse and render.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from consentlens.consent.policy import PhotoVerdict
from consentlens.consent.uses import Use
from consentlens.faces import review, verdicts
from consentlens.faces.imaging import PhotoTooLarge, UnreadablePhoto
from consentlens.faces.models import Face, FaceState, StoredVerdict
from consentlens.people.models import Child
from consentlens.photos import service
from consentlens.photos.models import Event, Photo, PhotoStatus

ANALYSED = (PhotoStatus.READY.value, PhotoStatus.NEEDS_REVIEW.value)
BUSY = (PhotoStatus.PENDING.value, PhotoStatus.PROCESSING.value)


@dataclass(frozen=True, slots=True)
class Tile:
    """One photo of an event as the progress list and the thumbnail grid show it."""

    id: int
    name: str
    status: str
    error: str
    faces: int
    width: int
    height: int
    thumb_url: str | None

    @property
    def url(self) -> str:
        return f"/staff/photos/{self.id}"

    @property
    def retryable(self) -> bool:
        return may_retry(status=self.status, error=self.error)


def may_retry(*, status: str, error: str) -> bool:
    """Whether analysing a failed photo again can succeed: not when the file itself cannot be
    read (a type or a damage no second try changes)."""
    permanent = tuple(f"{kind.__name__}:" for kind in (UnreadablePhoto, PhotoTooLarge))
    return status == PhotoStatus.FAILED.value and not error.startswith(permanent)


def _face_counts(session: Session, event: Event) -> Counter[int]:
    # Faces staff said are not faces are not counted: they play no part in any verdict.
    rows = session.exec(
        select(Face.photo_id, func.count())
        .join(Photo, col(Photo.id) == Face.photo_id)
        .where(Photo.event_id == event.id, Face.state != FaceState.NOT_A_FACE.value)
        .group_by(col(Face.photo_id))
    )
    return Counter(dict(rows.all()))


def _hidden_in_gallery(session: Session, event: Event) -> set[int]:
    """Photos whose last verdict hides them in the internal gallery: no thumbnail to offer."""
    return set(
        session.exec(
            select(StoredVerdict.photo_id)
            .join(Photo, col(Photo.id) == StoredVerdict.photo_id)
            .where(
                Photo.event_id == event.id,
                StoredVerdict.use_code == Use.INTERNAL_GALLERY,
                StoredVerdict.action == "hide",
            )
        )
    )


def _tiles(session: Session, event: Event) -> list[Tile]:
    photos = service.event_photos(session=session, event=event)
    faces = _face_counts(session, event)
    hidden = _hidden_in_gallery(session, event)
    tiles = []
    for photo in photos:
        assert photo.id is not None
        servable = photo.status in ANALYSED and photo.id not in hidden
        tiles.append(
            Tile(
                id=photo.id,
                name=photo.original_name or f"#{photo.id}",
                status=photo.status,
                error=photo.error if photo.status == PhotoStatus.FAILED.value else "",
                faces=faces[photo.id],
                width=photo.width,
                height=photo.height,
                thumb_url=image_url(photo_id=photo.id, use=Use.INTERNAL_GALLERY, size="thumb")
                if servable
                else None,
            )
        )
    return tiles


def image_url(*, photo_id: int, use: str, size: str) -> str:
    return f"/staff/photos/{photo_id}/image?use={use}&size={size}"


@dataclass(frozen=True, slots=True)
class Progress:
    tiles: list[Tile]
    counts: dict[str, int]
    awaiting_review: int

    @property
    def total(self) -> int:
        return len(self.tiles)

    @property
    def analysed(self) -> int:
        return sum(self.counts[s] for s in ANALYSED)

    @property
    def busy(self) -> bool:
        return any(self.counts[s] for s in BUSY)


def event_progress(*, session: Session, event: Event) -> Progress:
    """Where each photo of the event is in its analysis, and how many faces await review."""
    tiles = _tiles(session, event)
    counts = Counter(tile.status for tile in tiles)
    return Progress(
        tiles=tiles,
        counts={s.value: counts[s.value] for s in PhotoStatus},
        awaiting_review=len(review.pending_faces(session=session, event=event)),
    )


@dataclass(frozen=True, slots=True)
class FaceRow:
    number: int
    face: Face
    child: Child | None
    suggested: Child | None


@dataclass(frozen=True, slots=True)
class FaceReasons:
    """Faces that got the same verdict for the same reason in one use, listed once."""

    numbers: list[int]
    visible: bool
    reason: str
    params: dict[str, Any]


def face_reasons(*, verdict: PhotoVerdict, numbers: dict[int, int]) -> list[FaceReasons]:
    """The verdict's per-face reasons, faces with the same verdict and reason listed once."""
    groups: dict[tuple[bool, str, str], FaceReasons] = {}
    for face in verdict.faces:
        params = dict(face.reason.params)
        key = (face.visible, face.reason.message, repr(sorted(params.items())))
        group = groups.setdefault(key, FaceReasons([], face.visible, face.reason.message, params))
        if face.face_id in numbers:
            group.numbers.append(numbers[face.face_id])
    return list(groups.values())


def face_rows(*, session: Session, evaluation: verdicts.Evaluation) -> list[FaceRow]:
    """The photo's faces, numbered as on the page, with the child each names or suggests."""

    def child(child_id: int | None) -> Child | None:
        return session.get(Child, child_id) if child_id else None

    return [
        FaceRow(number, face, child(face.child_id), child(face.suggested_child_id))
        for number, face in enumerate(evaluation.faces, start=1)
    ]


def photo_faces(*, session: Session, photo: Photo) -> list[Face]:
    """Every face found in the photo, in the order they were stored."""
    return list(session.exec(select(Face).where(Face.photo_id == photo.id).order_by(col(Face.id))))
