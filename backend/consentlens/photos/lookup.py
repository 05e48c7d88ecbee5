"""Finding an event or photo for a page: within the signed-in organisation, else 404.

One place for "not yours" and "does not exist": both answer the same 404, so ids reveal nothing.
"""

from __future__ import annotations

from sqlmodel import Session

from consentlens.auth.deps import Principal
from consentlens.core.pages import found_or_404
from consentlens.photos import service
from consentlens.photos.models import Event, Photo


def event_or_404(*, session: Session, principal: Principal, event_id: int) -> Event:
    """The organisation's event, or the page's 404."""
    return found_or_404(
        service.get_event(session=session, organisation=principal.organisation, event_id=event_id)
    )


def photo_or_404(*, session: Session, principal: Principal, photo_id: int) -> Photo:
    """The organisation's photo, or the page's 404."""
    return found_or_404(
        service.get_photo(session=session, organisation=principal.organisation, photo_id=photo_id)
    )
