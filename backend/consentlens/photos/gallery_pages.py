"""The private gallery: guardians browse their children's photos on a phone; staff browse every
photo of the club with its verdicts and handle guardians' requests to remove a photo.

Every image comes from `serving.image` for the internal gallery, so it is rendered from the
verdict at the moment of the request. Whatever a guardian may not see answers 404, exactly like a
photo that does not exist, so guessing ids reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentGuardian, CurrentStaff, CurrentUser, Principal
from consentlens.consent.models import ConsentUse
from consentlens.consent.policy import VerdictAction
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.ids import Id
from consentlens.core.security import verify_csrf
from consentlens.core.templating import render
from consentlens.db.base import utcnow
from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people import groups as group_service
from consentlens.people import guardians as guardian_service
from consentlens.photos import (
    derivatives,
    gallery,
    lookup,
    removals,
    service,
    serving,
    throttle,
    verdicts,
)
from consentlens.photos.gallery import GALLERY_USE, StaffFilter
from consentlens.photos.models import Event, Photo, PhotoStatus

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]

# Rendered per request from the live verdict: the browser may keep it, but must ask again.
# no-store, not no-cache: children's images never land in a (shared) browser's disk cache;
# without validators no-cache re-downloaded them anyway.
IMAGE_HEADERS = {"Cache-Control": "private, no-store"}
MESSAGE_LIMIT = 1000

GUARDIAN_NOTICES = {
    "removal": N_("Thank you. The club has your request and will look at it soon."),
}
STAFF_NOTICES = {
    "removed": N_("The request is marked as resolved: the photo was removed."),
    "kept": N_("The request is marked as resolved: the photo was kept."),
    "already": N_("This request was already resolved."),
}
STATUS_LABELS = {
    PhotoStatus.PENDING.value: N_("Queued"),
    PhotoStatus.PROCESSING.value: N_("Analysing"),
    PhotoStatus.READY.value: N_("Ready"),
    PhotoStatus.NEEDS_REVIEW.value: N_("Needs review"),
    PhotoStatus.FAILED.value: N_("Failed"),
}
ACTION_LABELS = {
    VerdictAction.SHOW.value: N_("Shown"),
    VerdictAction.BLUR.value: N_("Blurred"),
    VerdictAction.HIDE.value: N_("Hidden"),
}
SHOW_LABELS = {
    StaffFilter.ALL.value: N_("All photos"),
    StaffFilter.NEEDS_REVIEW.value: N_("Needs review"),
    StaffFilter.HIDDEN_FROM_WEBSITE.value: N_("Hidden from the website"),
    StaffFilter.FAILED.value: N_("Analysis failed"),
}


def _absent(request: Request) -> Response:
    """The same page as for an unknown id, but returned rather than raised: the request still
    commits, so a verdict corrected while judging the photo is stored and the lists follow."""
    return render(
        request,
        "error.html",
        status_code=status.HTTP_404_NOT_FOUND,
        title=N_("Page not found"),
        message=lookup.NOT_FOUND,
    )


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


# --- removal requests: the work behind the pages ------------------------------------------------
# --- what a grid shows of each photo ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tile:
    """One photo in a grid: where it links, its thumbnail and the size the thumbnail will have."""

    id: int
    url: str
    thumb_url: str | None
    width: int
    height: int
    event: Event | None
    photo: Photo


def _fit(photo: Photo, size: str) -> tuple[int, int]:
    """The rendering's size (it fits in a square, never enlarged), so the grid does not jump."""
    limit = derivatives.SIZES[size]
    longest = max(photo.width, photo.height, 1)
    scale = min(1.0, limit / longest)
    return max(1, round(photo.width * scale)), max(1, round(photo.height * scale))


def _image_url(photo_id: int, size: str) -> str:
    return f"/gallery/photos/{photo_id}/image?size={size}"


def _events_of(
    session: Session, organisation: Organisation, photos: list[Photo]
) -> dict[int, Event]:
    events = {}
    for event_id in {p.event_id for p in photos}:
        event = service.get_event(session=session, organisation=organisation, event_id=event_id)
        if event is not None:
            events[event_id] = event
    return events


def _tiles(
    session: Session,
    organisation: Organisation,
    photos: list[Photo],
    *,
    link: str,
    hidden: set[int] | None = None,
) -> list[Tile]:
    events = _events_of(session, organisation, photos)
    tiles = []
    for photo in photos:
        assert photo.id is not None
        width, height = _fit(photo, "thumb")
        tiles.append(
            Tile(
                id=photo.id,
                url=link.format(id=photo.id),
                thumb_url=None if hidden and photo.id in hidden else _image_url(photo.id, "thumb"),
                width=width,
                height=height,
                event=events.get(photo.event_id),
                photo=photo,
            )
        )
    return tiles


# --- images: the one way a gallery photo leaves the server --------------------------------------


def _viewable_photo(session: Session, principal: Principal, photo_id: int) -> Photo:
    """A photo this person may ask for: staff any of their club's, guardians what gallery allows."""
    photo = service.get_photo(
        session=session, organisation=principal.organisation, photo_id=photo_id
    )
    if photo is None:
        raise lookup.not_found()
    if principal.is_staff:
        return photo
    if principal.is_guardian and gallery.guardian_may_see(session, principal, photo):
        return photo
    raise lookup.not_found()


def _guardian_photo(session: Session, principal: Principal, photo_id: int) -> Photo:
    photo = service.get_photo(
        session=session, organisation=principal.organisation, photo_id=photo_id
    )
    if photo is None or not gallery.guardian_may_see(session, principal, photo):
        raise lookup.not_found()
    return photo


def _rendered(session: Session, principal: Principal, photo: Photo, size: str) -> bytes | None:
    """The gallery rendering, or None when the verdict right now hides the photo."""
    throttle.check_image(principal.user.id or 0)
    try:
        return serving.image(
            session=session,
            organisation=principal.organisation,
            photo=photo,
            use=GALLERY_USE,
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
        raise lookup.not_found()
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
        details={"use": GALLERY_USE, "size": "display"},
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
    return render(
        request,
        "gallery/photos.html",
        event=event,
        tiles=_tiles(session, principal.organisation, page.photos, link="/gallery/photos/{id}"),
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
        events=gallery.guardian_events(session, principal),
        children=children,
    )


@router.get("/gallery/mine")
def guardian_mine(
    request: Request, session: SessionDep, principal: CurrentGuardian, before: Id | None = None
) -> Response:
    page = gallery.guardian_photos(session, principal, mine=True, before=before)
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
    if event is None or not gallery.guardian_may_see_event(session, principal, event):
        raise lookup.not_found()
    page = gallery.guardian_photos(session, principal, event_id=event_id, before=before)
    return _photos_page(
        request, session, principal, page, event=event, more_url=f"/gallery/events/{event_id}"
    )


def _gallery_action(session: Session, principal: Principal, photo: Photo) -> VerdictAction:
    # Judged now: a consent withdrawn since the last evaluation hides the photo at once.
    evaluation = serving.current_evaluation(
        session=session, organisation=principal.organisation, photo=photo, now=utcnow()
    )
    return evaluation.verdicts[GALLERY_USE].action


def _guardian_photo_page(
    request: Request,
    session: Session,
    principal: Principal,
    photo: Photo,
    *,
    message: str = "",
    errors: list[str] | None = None,
    notice: str | None = None,
) -> Response:
    action = _gallery_action(session, principal, photo)
    if action is VerdictAction.HIDE:
        return _absent(request)
    assert photo.id is not None
    event = session.get(Event, photo.event_id)
    width, height = _fit(photo, "display")
    return render(
        request,
        "gallery/photo.html",
        status_code=status.HTTP_400_BAD_REQUEST if errors else status.HTTP_200_OK,
        photo=photo,
        event=event,
        event_visible=event is not None
        and gallery.guardian_may_see_event(session, principal, event),
        blurred=action is VerdictAction.BLUR,
        image_url=_image_url(photo.id, "display"),
        width=width,
        height=height,
        requested=removals.open_removal_request(session=session, user=principal.user, photo=photo),
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
) -> Response:
    photo = _guardian_photo(session, principal, photo_id)
    return _guardian_photo_page(
        request, session, principal, photo, notice=GUARDIAN_NOTICES.get(done or "")
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
    return _see(f"/gallery/photos/{photo.id}?done=removal")


# --- staff --------------------------------------------------------------------------------------


def _hidden(summary: dict[int, dict[str, str]]) -> set[int]:
    """Photos with no gallery thumbnail to ask for: the verdict hides them, or none exists yet."""
    return {i for i, actions in summary.items() if actions.get(GALLERY_USE, "hide") == "hide"}


def _overlay(actions: dict[str, str], uses: list[ConsentUse]) -> list[tuple[str, list[ConsentUse]]]:
    """The uses per action (shown, blurred, hidden): three short lines read faster than six."""
    return [
        (action, grouped)
        for action in ACTION_LABELS
        if (grouped := [u for u in uses if actions.get(u.code) == action])
    ]


def _id_or_none(value: str) -> int | None:
    """A filter's id; an empty choice (or anything else) means no filter."""
    return int(value) if value.strip().isdigit() else None


@router.get("/staff/gallery")
def staff_gallery(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    group: str = "",
    event: str = "",
    child: str = "",
    show: str = "",
    before: Id | None = None,
) -> Response:
    organisation = principal.organisation
    chosen = {"group": _id_or_none(group), "event": _id_or_none(event), "child": _id_or_none(child)}
    shown = StaffFilter(show) if show in {f.value for f in StaffFilter} else StaffFilter.ALL
    page = gallery.staff_photos(
        session,
        principal,
        group_id=chosen["group"],
        event_id=chosen["event"],
        child_id=chosen["child"],
        show=shown,
        before=before,
    )
    summary = gallery.verdict_summary(session, [p.id for p in page.photos if p.id is not None])
    uses = verdicts.photo_uses(session, organisation)
    filters = {k: str(v) for k, v in chosen.items() if v is not None}
    if shown is not StaffFilter.ALL:
        filters["show"] = shown.value
    more = (
        "/staff/gallery?" + urlencode({**filters, "before": page.next_before})
        if page.next_before
        else None
    )
    return render(
        request,
        "gallery/staff.html",
        tiles=_tiles(
            session, organisation, page.photos, link="/staff/photos/{id}", hidden=_hidden(summary)
        ),
        overlays={photo_id: _overlay(actions, uses) for photo_id, actions in summary.items()},
        groups=group_service.list_groups(session=session, organisation=organisation),
        events=service.list_events(session=session, organisation=organisation),
        children=child_service.list_children(session=session, organisation=organisation),
        chosen=chosen,
        show=shown.value,
        filtered=bool(filters),
        more_url=more,
        open_requests=len(
            removals.open_removal_requests(session=session, organisation=organisation)
        ),
        status_labels=STATUS_LABELS,
        action_labels=ACTION_LABELS,
        show_labels=SHOW_LABELS,
    )


@router.get("/staff/removal-requests")
def staff_removals(
    request: Request, session: SessionDep, principal: CurrentStaff, done: str | None = None
) -> Response:
    rows = removals.open_removal_requests(session=session, organisation=principal.organisation)
    hidden = _hidden(
        gallery.verdict_summary(session, [p.id for _, _, p in rows if p and p.id is not None])
    )
    return render(
        request,
        "gallery/removals.html",
        rows=[
            (
                removal,
                user,
                photo,
                None if photo is None or photo.id in hidden else _image_url(photo.id, "thumb"),
                _fit(photo, "thumb") if photo else (0, 0),
            )
            for removal, user, photo in rows
        ],
        notice=STAFF_NOTICES.get(done or ""),
        tz=principal.organisation.timezone,
    )


@router.post("/staff/removal-requests/{request_id}", dependencies=CSRF)
def staff_resolve(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    request_id: Id,
    resolution: Annotated[str, Form()] = "",
) -> Response:
    removal = removals.get_removal_request(
        session=session, organisation=principal.organisation, request_id=request_id
    )
    if removal is None:
        raise lookup.not_found()
    if removal.resolved_at is not None:
        return _see("/staff/removal-requests?done=already")
    if resolution not in removals.RESOLUTIONS:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, N_("Choose what happened to the photo."))
    removals.resolve_removal(
        session=session,
        principal=principal,
        removal=removal,
        resolution=resolution,
        origin=origin_of(request),
    )
    return _see(f"/staff/removal-requests?done={resolution}")
