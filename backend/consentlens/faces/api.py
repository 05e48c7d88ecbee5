"""Analysed photos for integrations: faces and verdicts, policy-rendered images, enrolment."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.core import throttle
from consentlens.core.api_errors import (
    AUTHENTICATED,
    UNREADABLE_BODY,
    error,
    not_found,
    unprocessable,
)
from consentlens.core.db import SessionDep
from consentlens.core.ids import Id
from consentlens.core.tables import utcnow
from consentlens.faces import enrollment, overview, serving
from consentlens.people.children import get_child
from consentlens.photos import ingest, service
from consentlens.photos.models import Photo

router = APIRouter(prefix="/api/v1", tags=["photos"], responses=AUTHENTICATED)
# no-store, not no-cache: children's images never land in a (shared) browser's disk cache;
# without validators no-cache re-downloaded them anyway.
IMAGE_HEADERS = {"Cache-Control": "private, no-store", "Content-Disposition": "inline"}


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


_NO_PHOTO = not_found("No such photo.")


def _photo(session: Session, principal: Principal, photo_id: int) -> Photo:
    photo = service.get_photo(
        session=session, organisation=principal.organisation, photo_id=photo_id
    )
    if photo is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such photo.")
    return photo


def photo_public(session: Session, photo: Photo) -> PhotoPublic:
    assert photo.id is not None
    faces = overview.photo_faces(session=session, photo=photo)
    return PhotoPublic(
        id=photo.id,
        event_id=photo.event_id,
        status=photo.status,
        error=photo.error or None,
        width=photo.width,
        height=photo.height,
        taken_at=photo.taken_at.isoformat() if photo.taken_at else None,
        faces=[
            FacePublic(id=f.id, box=f.box, state=f.state, child_id=f.child_id)
            for f in faces
            if f.id is not None
        ],
        verdicts={
            v.use_code: VerdictPublic(
                action=v.action,
                reason=v.reason.format(**v.reason_params),
            )
            for v in serving.stored_verdicts(session=session, photo_id=photo.id)
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
        **error(status_code=403, description="The verdict hides this photo in this use."),
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
        **error(status_code=409, description="The child has no face-recognition consent."),
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
        references=enrollment.reference_count(session=session, child_id=child.id),
    )
