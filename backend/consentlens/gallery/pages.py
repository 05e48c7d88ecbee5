"""The private gallery as guardians see it: their children's photos on a phone, and a request to
remove one (staff's side: `gallery.staff_pages`).

Every image comes from `serving.image` for the internal gallery, so it is rendered from the
verdict at the moment of the request. Whatever a guardian may not see answers 404, exactly like a
photo that does not exist, so guessing ids reveals nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import Response
from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentGuardian, CurrentUser, Principal
from consentlens.consent.policy import VerdictAction
from consentlens.consent.uses import Use
from consentlens.core import throttle
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.ids import Id
from consentlens.core.pages import NOT_FOUND, not_found, see_other
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render
from consentlens.faces import derivatives, serving
from consentlens.gallery import outcome_mail, removals
from consentlens.gallery import scopes as gallery
from consentlens.gallery import tiles as grid
from consentlens.gallery.models import RemovalRequest
from consentlens.people import guardians as guardian_service
from consentlens.photos import service
from consentlens.photos.models import Event, Photo

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]

# Rendered per request from the live verdict: the browser may keep it, but must ask again.
# no-store, not no-cache: children's images never land in a (shared) browser's disk cache;
# without validators no-cache re-downloaded them anyway.
IMAGE_HEADERS = {"Cache-Control": "private, no-store"}
MESSAGE_LIMIT = 1000

# The list a photo page steps through: its event's photos (the default, when the guardian may see
# the event) or, with ?view=mine, the photos naming their own children.
MINE = "mine"

GUARDIAN_NOTICES = {
    "removal": N_("Thank you. The club has your request and will look at it soon."),
}


def _absent(request: Request) -> Response:
    """The same page as for an unknown id, but returned rather than raised: the request still
    commits, so a verdict corrected while judging the photo is stored and the lists follow."""
    return render(
        request,
        "error.html",
        status_code=status.HTTP_404_NOT_FOUND,
        title=N_("Page not found"),
        message=NOT_FOUND,
    )


# --- images: the one way a gallery photo leaves the server --------------------------------------


def _viewable_photo(session: Session, principal: Principal, photo_id: int) -> Photo:
    """A photo this person may ask for: staff any of their club's, guardians what gallery allows."""
    photo = service.get_photo(
        session=session, organisation=principal.organisation, photo_id=photo_id
    )
    if photo is None:
        raise not_found()
    if principal.is_staff:
        return photo
    if principal.is_guardian and gallery.guardian_may_see(
        session=session, principal=principal, photo=photo
    ):
        return photo
    raise not_found()


def _guardian_photo(session: Session, principal: Principal, photo_id: int) -> Photo:
    photo = service.get_photo(
        session=session, organisation=principal.organisation, photo_id=photo_id
    )
    if photo is None or not gallery.guardian_may_see(
        session=session, principal=principal, photo=photo
    ):
        raise not_found()
    return photo


def _rendered(session: Session, principal: Principal, photo: Photo, size: str) -> bytes | None:
    """The gallery rendering, or None when the verdict right now hides the photo."""
    throttle.check_image(principal.user.id or 0)
    try:
        return serving.image(
            session=session,
            organisation=principal.organisation,
            photo=photo,
            use=Use.INTERNAL_GALLERY,
            size=size,
            now=utcnow(),
        )
    except serving.NotServable:
        return None


@router.get("/gallery/photos/{photo_id}/image")
def photo_image(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    photo_id: Id,
    size: str = "thumb",
) -> Response:
    """The photo as the internal gallery may show it right now (staff and guardians)."""
    if size not in derivatives.SIZES:
        raise not_found()
    photo = _viewable_photo(session, principal, photo_id)
    data = _rendered(session, principal, photo, size)
    if data is None:
        return _absent(request)
    return Response(
        data,
        media_type="image/jpeg",
        headers={**IMAGE_HEADERS, "Content-Disposition": "inline"},
    )


@router.get("/gallery/photos/{photo_id}/download")
def photo_download(
    request: Request, session: SessionDep, principal: CurrentUser, photo_id: Id
) -> Response:
    photo = _viewable_photo(session, principal, photo_id)
    data = _rendered(session, principal, photo, "display")
    if data is None:
        return _absent(request)
    audit.record(
        session=session,
        action="photos.downloaded",
        organisation_id=principal.organisation.id,
        actor_id=principal.user.id,
        subject_type="photo",
        subject_id=photo.id,
        details={"use": Use.INTERNAL_GALLERY, "size": "display"},
        origin=origin_of(request),
    )
    return Response(
        data,
        media_type="image/jpeg",
        headers={
            **IMAGE_HEADERS,
            "Content-Disposition": f'attachment; filename="photo-{photo.id}.jpg"',
        },
    )


# --- guardians ----------------------------------------------------------------------------------


def _photos_page(
    request: Request,
    session: Session,
    principal: Principal,
    page: gallery.Page,
    *,
    event: Event | None,
    more_url: str,
) -> Response:
    # A photo opened from "my children" steps through that list, not through its event.
    link = "/gallery/photos/{id}" if event else f"/gallery/photos/{{id}}?view={MINE}"
    return render(
        request,
        "gallery/photos.html",
        event=event,
        tiles=grid.tiles(
            session=session,
            organisation=principal.organisation,
            photos=page.photos,
            link=link,
        ),
        more_url=f"{more_url}?before={page.next_before}" if page.next_before else None,
        first_page="before" not in request.query_params,
    )


@router.get("/gallery")
def guardian_home(request: Request, session: SessionDep, principal: CurrentGuardian) -> Response:
    children = guardian_service.children_of_guardian(
        session=session, organisation=principal.organisation, guardian=principal.user
    )
    return render(
        request,
        "gallery/events.html",
        events=gallery.guardian_events(session=session, principal=principal),
        children=children,
        requests=_own_requests(session, principal),
        tz=principal.organisation.timezone,
    )


def _own_requests(
    session: Session, principal: Principal
) -> list[tuple[RemovalRequest, str, str | None]]:
    """The guardian's removal requests with what became of them, and the photo's page while
    they may still open it."""
    rows = []
    for removal in removals.guardian_removal_requests(session=session, principal=principal):
        photo = (
            service.get_photo(
                session=session, organisation=principal.organisation, photo_id=removal.photo_id
            )
            if removal.photo_id is not None
            else None
        )
        visible = photo is not None and gallery.guardian_may_see(
            session=session, principal=principal, photo=photo
        )
        url = f"/gallery/photos/{removal.photo_id}" if visible else None
        rows.append((removal, outcome_mail.outcome_text(removal.resolution), url))
    return rows


@router.get("/gallery/mine")
def guardian_mine(
    request: Request, session: SessionDep, principal: CurrentGuardian, before: Id | None = None
) -> Response:
    page = gallery.guardian_photos(session=session, principal=principal, mine=True, before=before)
    return _photos_page(request, session, principal, page, event=None, more_url="/gallery/mine")


@router.get("/gallery/events/{event_id}")
def guardian_event(
    request: Request,
    session: SessionDep,
    principal: CurrentGuardian,
    event_id: Id,
    before: Id | None = None,
) -> Response:
    event = service.get_event(
        session=session, organisation=principal.organisation, event_id=event_id
    )
    if event is None or not gallery.guardian_may_see_event(
        session=session, principal=principal, event=event
    ):
        raise not_found()
    page = gallery.guardian_photos(
        session=session, principal=principal, event_id=event_id, before=before
    )
    return _photos_page(
        request, session, principal, page, event=event, more_url=f"/gallery/events/{event_id}"
    )


def _gallery_action(session: Session, principal: Principal, photo: Photo) -> VerdictAction:
    # Judged now: a consent withdrawn since the last evaluation hides the photo at once.
    evaluation = serving.current_evaluation(
        session=session, organisation=principal.organisation, photo=photo, now=utcnow()
    )
    return evaluation.verdicts[Use.INTERNAL_GALLERY].action


def _guardian_photo_page(
    request: Request,
    session: Session,
    principal: Principal,
    photo: Photo,
    *,
    message: str = "",
    errors: list[str] | None = None,
    notice: str | None = None,
    view: str = "",
) -> Response:
    action = _gallery_action(session, principal, photo)
    if action is VerdictAction.HIDE:
        return _absent(request)
    assert photo.id is not None
    event = service.get_event(
        session=session, organisation=principal.organisation, event_id=photo.event_id
    )
    event_visible = event is not None and gallery.guardian_may_see_event(
        session=session, principal=principal, event=event
    )
    mine = view == MINE or not event_visible
    neighbours = gallery.guardian_neighbours(
        session=session,
        principal=principal,
        photo=photo,
        event_id=None if mine else photo.event_id,
        mine=mine,
    )
    suffix = f"?view={MINE}" if mine else ""
    width, height = grid.fit(photo=photo, size="display")
    requested = removals.latest_removal_request(session=session, user=principal.user, photo=photo)
    return render(
        request,
        "gallery/photo.html",
        status_code=status.HTTP_400_BAD_REQUEST if errors else status.HTTP_200_OK,
        photo=photo,
        event=event,
        event_visible=event_visible and not mine,
        previous_url=f"/gallery/photos/{neighbours.previous}{suffix}"
        if neighbours.previous
        else None,
        next_url=f"/gallery/photos/{neighbours.next}{suffix}" if neighbours.next else None,
        blurred=action is VerdictAction.BLUR,
        image_url=grid.image_url(photo_id=photo.id, size="display"),
        width=width,
        height=height,
        requested=requested,
        outcome=outcome_mail.outcome_text(requested.resolution) if requested else "",
        message=message,
        message_limit=MESSAGE_LIMIT,
        errors=errors or [],
        notice=notice,
        tz=principal.organisation.timezone,
    )


@router.get("/gallery/photos/{photo_id}")
def guardian_photo(
    request: Request,
    session: SessionDep,
    principal: CurrentGuardian,
    photo_id: Id,
    done: str | None = None,
    view: str = "",
) -> Response:
    photo = _guardian_photo(session, principal, photo_id)
    return _guardian_photo_page(
        request, session, principal, photo, notice=GUARDIAN_NOTICES.get(done or ""), view=view
    )


@router.post("/gallery/photos/{photo_id}/removal", dependencies=CSRF)
def guardian_removal(
    request: Request,
    session: SessionDep,
    principal: CurrentGuardian,
    photo_id: Id,
    message: Annotated[str, Form()] = "",
) -> Response:
    photo = _guardian_photo(session, principal, photo_id)
    if _gallery_action(session, principal, photo) is VerdictAction.HIDE:
        return _absent(request)
    message = message.strip()
    if len(message) > MESSAGE_LIMIT:
        return _guardian_photo_page(
            request,
            session,
            principal,
            photo,
            message=message,
            errors=[N_("The message is too long. Keep it under 1000 characters.")],
        )
    removals.request_removal(
        session=session,
        principal=principal,
        photo=photo,
        message=message,
        origin=origin_of(request),
    )
    return see_other(f"/gallery/photos/{photo.id}?done=removal")
