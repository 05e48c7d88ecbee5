"""Event photos for integrations: events, uploads, faces and verdicts, policy-rendered images."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.core.api_errors import (
    AUTHENTICATED,
    UNREADABLE_BODY,
    error,
    not_found,
    unprocessable,
)
from consentlens.core.api_types import IsoDate
from consentlens.core.db import SessionDep
from consentlens.core.ids import Id
from consentlens.db.base import utcnow
from consentlens.people.children import get_child
from consentlens.photos import enrollment, ingest, service, serving, throttle, worker
from consentlens.photos.models import Event, Face, Photo
from consentlens.photos.service import EventError

router = APIRouter(prefix="/api/v1", tags=["photos"], responses=AUTHENTICATED)
# no-store, not no-cache: children's images never land in a (shared) browser's disk cache;
# without validators no-cache re-downloaded them anyway.
IMAGE_HEADERS = {"Cache-Control": "private, no-store", "Content-Disposition": "inline"}


class EventCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    date: IsoDate
    group_ids: list[Id] = Field(default_factory=list)


class EventPublic(BaseModel):
    id: int
    name: str
    date: date
    group_ids: list[int]
    photo_counts: dict[str, int] = Field(description="Photos per status.")


class UploadOutcome(BaseModel):
    filename: str
    id: int | None = None
    status: str | None = Field(default=None, description="The photo's processing status.")
    duplicate: bool = Field(default=False, description="The same file was uploaded before.")
    error: str | None = Field(default=None, description="Why the file was not accepted.")


class FacePublic(BaseModel):
    id: int
    box: tuple[int, int, int, int] = Field(
        description="[x, y, w, h] in pixels of the original after EXIF orientation."
    )
    state: Literal["identified", "confirmed", "uncertain", "unknown", "too_small", "not_a_face"]
    child_id: int | None


class VerdictPublic(BaseModel):
    action: Literal["show", "blur", "hide"]
    reason: str


class PhotoPublic(BaseModel):
    id: int
    event_id: int
    status: Literal["pending", "processing", "ready", "needs_review", "failed"]
    error: str | None
    width: int
    height: int
    taken_at: str | None = Field(description="Camera clock (no time zone), ISO 8601.")
    faces: list[FacePublic]
    verdicts: dict[str, VerdictPublic]


class ReferencePublic(BaseModel):
    id: int
    child_id: int
    source: str
    references: int = Field(description="How many reference faces the child now has.")


_NO_EVENT = not_found("No such event.")
_NO_PHOTO = not_found("No such photo.")


def _event(session: Session, principal: Principal, event_id: int) -> Event:
    event = service.get_event(
        session=session, organisation=principal.organisation, event_id=event_id
    )
    if event is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such event.")
    return event


def _photo(session: Session, principal: Principal, photo_id: int) -> Photo:
    photo = service.get_photo(
        session=session, organisation=principal.organisation, photo_id=photo_id
    )
    if photo is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such photo.")
    return photo


def _event_public(session: Session, event: Event) -> EventPublic:
    assert event.id is not None
    counts = service.photo_counts(session, [event.id])[event.id]
    return EventPublic(
        id=event.id,
        name=event.name,
        date=event.event_date,
        group_ids=[g.id for g in service.event_groups(session, event) if g.id is not None],
        photo_counts=dict(counts),
    )


@router.post(
    "/events",
    response_model=EventPublic,
    status_code=status.HTTP_201_CREATED,
    responses=UNREADABLE_BODY,
)
def create_event(
    payload: EventCreate, request: Request, session: SessionDep, principal: CurrentStaff
) -> EventPublic:
    """Create an event (a match, a trip, a party) to upload its photos into."""
    try:
        event = service.create_event(
            session=session,
            organisation=principal.organisation,
            name=payload.name,
            event_date=payload.date,
            group_ids=payload.group_ids,
            user=principal.user,
            origin=origin_of(request),
        )
    except EventError as error:
        raise unprocessable(str(error), "body") from None
    return _event_public(session, event)


@router.get("/events/{event_id}", response_model=EventPublic, responses=_NO_EVENT)
def read_event(event_id: Id, session: SessionDep, principal: CurrentStaff) -> EventPublic:
    """An event with the number of its photos in each processing status."""
    return _event_public(session, _event(session, principal, event_id))


@router.post(
    "/events/{event_id}/photos",
    response_model=list[UploadOutcome],
    form_limits={"max_files": ingest.MAX_FILES_PER_REQUEST},
    responses={
        **_NO_EVENT,
        **UNREADABLE_BODY,
        413: {"description": "The request is larger than one photo may be."},
    },
)
def upload_photos(
    event_id: Id,
    files: Annotated[list[UploadFile], File(description="One or more photos.")],
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
) -> list[UploadOutcome]:
    """Upload photos into an event. Each file is judged on its own: kept, recognised as a
    duplicate, or rejected with the reason; one bad file does not affect the others.

    The whole request may be as large as one photo (413 beyond): send large photos one per
    request."""
    event = _event(session, principal, event_id)
    outcomes = []
    for upload in files:
        result = service.add_upload(
            session=session,
            organisation=principal.organisation,
            event=event,
            source=upload.file,
            filename=upload.filename or "",
            user=principal.user,
            origin=origin_of(request),
        )
        if result.photo is None:
            text = result.error.format(**(result.error_params or {}))
            outcomes.append(UploadOutcome(filename=result.filename, error=text))
        else:
            outcomes.append(
                UploadOutcome(
                    filename=result.filename,
                    id=result.photo.id,
                    status=result.photo.status,
                    duplicate=result.duplicate,
                )
            )
    session.commit()
    worker.wake()
    return outcomes


def photo_public(session: Session, photo: Photo) -> PhotoPublic:
    assert photo.id is not None
    faces = session.exec(select(Face).where(Face.photo_id == photo.id).order_by(col(Face.id)))
    return PhotoPublic(
        id=photo.id,
        event_id=photo.event_id,
        status=photo.status,  # type: ignore[arg-type]
        error=photo.error or None,
        width=photo.width,
        height=photo.height,
        taken_at=photo.taken_at.isoformat() if photo.taken_at else None,
        faces=[
            FacePublic(id=f.id, box=f.box, state=f.state, child_id=f.child_id)  # type: ignore[arg-type]
            for f in faces
            if f.id is not None
        ],
        verdicts={
            v.use_code: VerdictPublic(
                action=v.action,  # type: ignore[arg-type]
                reason=v.reason.format(**v.reason_params),
            )
            for v in serving.stored_verdicts(session, photo.id)
        },
    )


@router.get("/photos/{photo_id}", response_model=PhotoPublic, responses=_NO_PHOTO)
def read_photo(photo_id: Id, session: SessionDep, principal: CurrentStaff) -> PhotoPublic:
    """A photo's status, its faces and the verdict per use with the policy's reason."""
    photo = _photo(session, principal, photo_id)
    # Judge now: a consent that lapsed since the last evaluation shows here at once.
    serving.current_evaluation(
        session=session, organisation=principal.organisation, photo=photo, now=utcnow()
    )
    return photo_public(session, photo)


@router.get(
    "/photos/{photo_id}/image",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "Rendered per the use's verdict."},
        **error(403, "The verdict hides this photo in this use."),
        **_NO_PHOTO,
    },
)
def read_image(
    photo_id: Id,
    session: SessionDep,
    principal: CurrentStaff,
    use: Annotated[str, Query(description="A photo use code, e.g. `website`.")],
    size: Annotated[Literal["thumb", "display"], Query()] = "display",
) -> Response:
    """The photo as it may appear in `use`: faces without consent covered, no metadata."""
    throttle.check_image(principal.user.id or 0)
    photo = _photo(session, principal, photo_id)
    try:
        data = serving.image(
            session=session,
            organisation=principal.organisation,
            photo=photo,
            use=use,
            size=size,
            now=utcnow(),
        )
    except KeyError:
        raise unprocessable(f"Unknown photo use '{use}'.", "query", "use") from None
    except serving.NotServable as hidden:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"Hidden in this use: {hidden}") from None
    return Response(data, media_type="image/jpeg", headers=IMAGE_HEADERS)


@router.post(
    "/children/{child_id}/reference-photos",
    response_model=ReferencePublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        **not_found("No such child."),
        **UNREADABLE_BODY,
        **error(409, "The child has no face-recognition consent."),
        422: {"description": "The photo cannot be used as a reference."},
    },
)
def enroll_child(
    child_id: Id,
    file: Annotated[UploadFile, File(description="A portrait of the child alone.")],
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
) -> ReferencePublic:
    """Enroll a reference face from a portrait (only the face's embedding is kept)."""
    child = get_child(session=session, organisation=principal.organisation, child_id=child_id)
    if child is None or child.id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such child.")
    try:
        enrollment.require_recognition_consent(
            session=session, organisation=principal.organisation, child=child, now=utcnow()
        )
        with ingest.receive(file.file) as received:
            ingest.inspect(received.path)
            reference = enrollment.enroll_portrait(
                session=session,
                organisation=principal.organisation,
                child=child,
                path=received.path,
                user=principal.user,
                now=utcnow(),
                origin=origin_of(request),
            )
    except ingest.UploadRejected as rejected:
        raise unprocessable(str(rejected), "body", "file") from None
    except enrollment.EnrollmentRefused as refused:
        if refused.conflict:
            raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
        raise unprocessable(str(refused), "body", "file") from None
    assert reference.id is not None
    return ReferencePublic(
        id=reference.id,
        child_id=child.id,
        source=reference.source,
        references=enrollment.reference_count(session, child.id),
    )
