"""Staff pages for events and their photos: the event list, creating an event, uploading, retrying.

The upload route answers JSON to the page's own script (cookie session plus CSRF token), so it
lives here with the pages rather than in the bearer-token API.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_, get_translations
from consentlens.core.ids import Id
from consentlens.core.pages import see_other
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render, request_locale
from consentlens.people import groups as group_service
from consentlens.photos import ingest, lookup, service
from consentlens.photos.service import EventError

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]
Text = Annotated[str, Form()]

GROUP_ERROR = "One of the chosen groups does not exist."


# --- events -----------------------------------------------------------------------------------


def _events_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    form: dict[str, Any] | None = None,
    error: EventError | None = None,
    done: str = "",
) -> Response:
    organisation = principal.organisation
    events = service.list_events(session=session, organisation=organisation)
    counts = service.photo_counts(
        session=session, event_ids=[e.id for e in events if e.id is not None]
    )
    today = utcnow().astimezone(ZoneInfo(organisation.timezone)).date()
    return render(
        request,
        "photos/events.html",
        status_code=status.HTTP_400_BAD_REQUEST if error else status.HTTP_200_OK,
        events=[
            (e, service.event_groups(session=session, event=e), counts[e.id])
            for e in events
            if e.id is not None
        ],
        groups=group_service.list_groups(session=session, organisation=organisation),
        form=form
        or {"name": "", "event_date": today.isoformat(), "group_ids": set(), "invalid": ""},
        error=error,
        done=done,
    )


@router.get("/staff/events")
def events_page(
    request: Request, session: SessionDep, principal: CurrentStaff, done: str = ""
) -> Response:
    return _events_page(request, session, principal, done=done)


@router.post("/staff/events", dependencies=CSRF)
def event_create(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    name: Text = "",
    event_date: Text = "",
    group_ids: Annotated[list[Id], Form()] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    form = {"name": name, "event_date": event_date, "group_ids": set(group_ids), "invalid": ""}
    try:
        day = date.fromisoformat(event_date.strip())
    except ValueError:
        form["invalid"] = "event_date"
        error = EventError(N_("Enter the date of the event."))
        return _events_page(request, session, principal, form=form, error=error)
    try:
        event = service.create_event(
            session=session,
            organisation=principal.organisation,
            name=name,
            event_date=day,
            group_ids=group_ids,
            user=principal.user,
            origin=origin_of(request),
        )
    except EventError as error:
        # Every other refusal is about the name, except a group that is not (or no longer) ours.
        form["invalid"] = "" if error.message == GROUP_ERROR else "name"
        return _events_page(request, session, principal, form=form, error=error)
    return see_other(f"/staff/events/{event.id}?done=created")


@router.post(
    "/staff/events/{event_id}/photos",
    dependencies=CSRF,
    form_limits={"max_files": ingest.MAX_FILES_PER_REQUEST},
)
def event_upload(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    event_id: Id,
    files: Annotated[list[UploadFile], File()] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    """Receive photos; each file is kept, recognised as a duplicate or rejected on its own."""
    event = lookup.event_or_404(session=session, principal=principal, event_id=event_id)
    t = get_translations(request_locale(request))
    outcomes = []
    uploads = service.add_uploads(
        session=session, principal=principal, event=event, uploads=files, origin=origin_of(request)
    )
    for result in uploads:
        photo = result.photo
        outcomes.append(
            {
                "filename": result.filename,
                "id": photo.id if photo else None,
                "event_id": photo.event_id if photo else None,
                "status": photo.status if photo else None,
                "duplicate": result.duplicate,
                "final": photo is None and result.error not in ingest.RETRYABLE,
                "error": t.gettext(result.error).format(**(result.error_params or {}))
                if photo is None
                else None,
            }
        )
    accept = request.headers.get("accept", "")
    if "text/html" in accept and "application/json" not in accept:
        # A plain form post (no script): show the event page with the photos in their list.
        return see_other(f"/staff/events/{event.id}?done=uploaded")
    return JSONResponse(outcomes)


@router.post("/staff/photos/{photo_id}/retry", dependencies=CSRF)
def photo_retry(session: SessionDep, principal: CurrentStaff, photo_id: Id) -> Response:
    photo = lookup.photo_or_404(session=session, principal=principal, photo_id=photo_id)
    service.retry_photo(session=session, photo=photo)
    return see_other(f"/staff/events/{photo.event_id}?done=retried#photo-{photo.id}")
