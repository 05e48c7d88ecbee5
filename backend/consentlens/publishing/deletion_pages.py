"""Admin pages to delete a photo or an event: a confirmation page, then the deletion (POST)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentAdmin
from consentlens.core.db import SessionDep
from consentlens.core.ids import Id
from consentlens.core.pages import see_other
from consentlens.core.security import verify_csrf
from consentlens.core.templating import render
from consentlens.photos import lookup
from consentlens.publishing import deletions

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]


@router.get("/admin/photos/{photo_id}/delete")
def confirm_photo(
    request: Request, session: SessionDep, principal: CurrentAdmin, photo_id: Id
) -> Response:
    photo = lookup.photo_or_404(session=session, principal=principal, photo_id=photo_id)
    assert photo.id is not None
    event = lookup.event_or_404(session=session, principal=principal, event_id=photo.event_id)
    return render(
        request,
        "publishing/delete.html",
        photo=photo,
        event=event,
        goes=deletions.what_goes(session=session, photo_ids=[photo.id]),
        action=f"/admin/photos/{photo.id}/delete",
        back=f"/staff/photos/{photo.id}",
    )


@router.post("/admin/photos/{photo_id}/delete", dependencies=CSRF)
def delete_photo(
    request: Request,
    session: SessionDep,
    principal: CurrentAdmin,
    photo_id: Id,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    photo = lookup.photo_or_404(session=session, principal=principal, photo_id=photo_id)
    if confirm != "yes":
        return see_other(f"/admin/photos/{photo.id}/delete")
    event_id = photo.event_id
    deletions.delete_photo(
        session=session,
        organisation=principal.organisation,
        photo=photo,
        actor=principal.user,
        origin=origin_of(request),
    )
    return see_other(f"/staff/events/{event_id}?done=photo_deleted")


@router.get("/admin/events/{event_id}/delete")
def confirm_event(
    request: Request, session: SessionDep, principal: CurrentAdmin, event_id: Id
) -> Response:
    event = lookup.event_or_404(session=session, principal=principal, event_id=event_id)
    ids = deletions.event_photo_ids(session=session, event=event)
    return render(
        request,
        "publishing/delete.html",
        photo=None,
        event=event,
        goes=deletions.what_goes(session=session, photo_ids=ids),
        action=f"/admin/events/{event.id}/delete",
        back=f"/staff/events/{event.id}",
    )


@router.post("/admin/events/{event_id}/delete", dependencies=CSRF)
def delete_event(
    request: Request,
    session: SessionDep,
    principal: CurrentAdmin,
    event_id: Id,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    event = lookup.event_or_404(session=session, principal=principal, event_id=event_id)
    if confirm != "yes":
        return see_other(f"/admin/events/{event.id}/delete")
    deletions.delete_event(
        session=session,
        organisation=principal.organisation,
        event=event,
        actor=principal.user,
        origin=origin_of(request),
    )
    return see_other("/staff/events?done=event_deleted")
