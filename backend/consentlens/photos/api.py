"""Event photos for integrations: events and uploads (faces and images: `faces.api`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Request, UploadFile, status
from pydantic import BaseModel, Field
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.core.api_errors import (
    AUTHENTICATED,
    UNREADABLE_BODY,
    not_found,
    unprocessable,
)
from consentlens.core.api_types import IsoDate
from consentlens.core.db import SessionDep
from consentlens.core.ids import Id
from consentlens.photos import ingest, service
from consentlens.photos.models import Event
from consentlens.photos.service import EventError

router = APIRouter(prefix="/api/v1", tags=["photos"], responses=AUTHENTICATED)


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


_NO_EVENT = not_found("No such event.")


def _event(session: Session, principal: Principal, event_id: int) -> Event:
    event = service.get_event(
        session=session, organisation=principal.organisation, event_id=event_id
    )
    if event is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such event.")
    return event


def _event_public(session: Session, event: Event) -> EventPublic:
    assert event.id is not None
    counts = service.photo_counts(session=session, event_ids=[event.id])[event.id]
    return EventPublic(
        id=event.id,
        name=event.name,
        date=event.event_date,
        group_ids=[
            g.id for g in service.event_groups(session=session, event=event) if g.id is not None
        ],
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
    uploads = service.add_uploads(
        session=session, principal=principal, event=event, uploads=files, origin=origin_of(request)
    )
    for result in uploads:
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
    return outcomes
