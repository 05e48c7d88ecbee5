"""Finding an event or photo for a page: within the signed-in organisation, else 404.

One place for "not yours" and "does not exist": both answer the same 404, so ids reveal nothing.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlmodel import Session

from consentlens.auth.deps import Principal
from consentlens.core.i18n import N_
from consentlens.photos import service
from consentlens.photos.models import Event, Photo

NOT_FOUND = N_("This page does not exist.")


def not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)


def event_or_404(session: Session, principal: Principal, event_id: int) -> Event:
    event = service.get_event(
        session=session, organisation=principal.organisation, event_id=event_id
    )
    if event is None:
        raise not_found()
    return event


def photo_or_404(session: Session, principal: Principal, photo_id: int) -> Photo:
    photo = service.get_photo(
        session=session, organisation=principal.organisation, photo_id=photo_id
    )
    if photo is None:
        raise not_found()
    return photo
