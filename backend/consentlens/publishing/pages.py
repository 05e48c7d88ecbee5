"""Staff pages for publishing photos as a ZIP, the list of past publications and of photos to
take down, and the admin's photo settings (retention, watermark) with the events due for deletion.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.consent.models import ConsentUse
from consentlens.consent.uses import Use
from consentlens.core.db import SessionDep
from consentlens.core.downloads import ascii_filename
from consentlens.core.i18n import N_
from consentlens.core.ids import Id, parse_id
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render, request_locale
from consentlens.faces import verdicts
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.photos import service
from consentlens.photos.models import Photo
from consentlens.publishing import service as publishing
from consentlens.publishing import takedowns

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]

VISIBLE = ("show", "blur")
SIZE_LABELS = {"thumb": N_("Small: 400 pixels"), "display": N_("Large: 1600 pixels")}
# The stored verdict of a photo for the chosen use, in the words of someone publishing it.
VERDICT_LABELS = {
    "show": N_("Shown"),
    "blur": N_("Faces covered"),
    "hide": N_("Left out"),
    "": N_("Not analysed yet"),
}
MIN_MONTHS, MAX_MONTHS = 1, 120
STALE_PREVIEW = N_(
    "Where the photos will be published was changed after they were shown. Here they are for "
    "the new choice: check them and download again."
)


def _image_url(photo_id: int, use: str) -> str:
    return f"/staff/photos/{photo_id}/image?use={use}&size=thumb"


def _event_id(raw: str) -> int | None:
    # An empty choice in the event select arrives as "", which is "no event", not an error.
    return parse_id(raw)


# --- publishing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    """One photo offered for publication, with its last verdict for the chosen use."""

    id: int
    name: str
    verdict: str
    thumb_url: str | None
    checked: bool

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS.get(self.verdict, VERDICT_LABELS[""])


def _publish_uses(session: Session, organisation: Organisation) -> list[ConsentUse]:
    return [
        use
        for use in verdicts.photo_uses(session=session, organisation=organisation)
        if use.code in publishing.PUBLISH_USES
    ]


def _offered_photos(
    session: Session, organisation: Organisation, event_id: int | None, selection: list[int]
) -> list[Photo]:
    if selection:
        found = (
            service.get_photo(session=session, organisation=organisation, photo_id=photo_id)
            for photo_id in dict.fromkeys(selection)
        )
        return [photo for photo in found if photo is not None]
    event = (
        service.get_event(session=session, organisation=organisation, event_id=event_id)
        if event_id is not None
        else None
    )
    return service.event_photos(session=session, event=event) if event is not None else []


def _choices(
    session: Session, photos: list[Photo], use: str, checked: set[int] | None
) -> list[Choice]:
    ids = [photo.id for photo in photos if photo.id is not None]
    summary = verdicts.verdict_summary(session=session, photo_ids=ids)
    choices = []
    for photo in photos:
        assert photo.id is not None
        verdict = summary[photo.id].get(use, "")
        # Thumbnails as they would be published; a photo left out shows as in the club gallery.
        if verdict in VISIBLE:
            thumb: str | None = _image_url(photo.id, use)
        elif summary[photo.id].get(Use.INTERNAL_GALLERY) in VISIBLE:
            thumb = _image_url(photo.id, Use.INTERNAL_GALLERY)
        else:
            thumb = None
        choices.append(
            Choice(
                id=photo.id,
                name=photo.original_name or f"#{photo.id}",
                verdict=verdict,
                thumb_url=thumb,
                checked=verdict in VISIBLE if checked is None else photo.id in checked,
            )
        )
    return choices


def _publish_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    use: str,
    event_id: int | None,
    selection: list[int],
    checked: set[int] | None = None,
    size: str = "display",
    title: str = "",
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    organisation = principal.organisation
    uses = _publish_uses(session, organisation)
    chosen = next((u for u in uses if u.code == use), None)
    photos = _offered_photos(session, organisation, event_id, selection)
    choices = _choices(session, photos, use, checked) if chosen else []
    return render(
        request,
        "publishing/publish.html",
        status_code=status_code,
        errors=errors or [],
        uses=uses,
        use=use,
        use_label=chosen.label(request_locale(request)) if chosen else "",
        events=service.list_events(session=session, organisation=organisation),
        event_id=event_id,
        selection=[choice.id for choice in choices] if selection else [],
        choices=choices,
        verdict_counts=Counter(choice.verdict for choice in choices),
        verdict_labels=VERDICT_LABELS,
        size=size,
        sizes=SIZE_LABELS,
        title=title,
        open_takedowns=len(takedowns.open_takedowns(session=session, organisation=organisation)),
    )


@router.get("/staff/publish")
def publish_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    use: str = Use.WEBSITE,
    event: str = "",
    photo: Annotated[list[Id], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    size: str = "display",
    title: str = "",
) -> Response:
    return _publish_page(
        request,
        session,
        principal,
        use=use,
        event_id=_event_id(event),
        selection=photo,
        size=size if size in SIZE_LABELS else "display",
        title=title[:200],
    )


@router.post("/staff/publish/preview", dependencies=CSRF)
def publish_preview(
    _staff: CurrentStaff,
    use: Annotated[str, Form()] = "",
    event: Annotated[str, Form()] = "",
    selection: Annotated[list[Id], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    size: Annotated[str, Form()] = "display",
    title: Annotated[str, Form()] = "",
) -> Response:
    """The page again for the use and event now chosen ("Show the photos"), at a plain address:
    the choices live in the one form that also downloads, which is posted."""
    return RedirectResponse(
        preview_url(use=use, event=event, selection=selection, size=size, title=title),
        status_code=303,
    )


def preview_url(*, use: str, event: str, selection: list[int], size: str, title: str) -> str:
    """The address of the publish page for these choices; a selection wins over an event."""
    query: list[tuple[str, str | int]] = [("use", use)]
    if selection:
        query += [("photo", photo_id) for photo_id in dict.fromkeys(selection)]
    elif event:
        query.append(("event", event))
    query += [("size", size), ("title", title[:200])] if title else [("size", size)]
    return "/staff/publish?" + urlencode(query)


@router.post("/staff/publish", dependencies=CSRF)
def publish_submit(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    use: Annotated[str, Form()] = "",
    size: Annotated[str, Form()] = "display",
    title: Annotated[str, Form()] = "",
    event: Annotated[str, Form()] = "",
    photo: Annotated[list[Id], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    selection: Annotated[list[Id], Form()] = [],  # noqa: B006
    shown_use: Annotated[str, Form()] = "",
) -> Response:
    if shown_use and shown_use != use:
        # The photos on screen were judged for another use: show them for this one first, so
        # that what is downloaded is what was looked at.
        return _publish_page(
            request,
            session,
            principal,
            use=use,
            event_id=_event_id(event),
            selection=selection,
            checked=set(photo),
            size=size,
            title=title,
            errors=[STALE_PREVIEW],
            status_code=409,
        )
    organisation = principal.organisation
    found = (
        service.get_photo(session=session, organisation=organisation, photo_id=photo_id)
        for photo_id in dict.fromkeys(photo)
    )
    photos = [p for p in found if p is not None]
    now = utcnow()
    try:
        export = publishing.publish(
            session=session,
            organisation=organisation,
            user=principal.user,
            use=use,
            photos=photos,
            size=size,
            title=title,
            now=now,
            origin=origin_of(request),
        )
    except publishing.PublishError as error:
        return _publish_page(
            request,
            session,
            principal,
            use=use,
            event_id=_event_id(event),
            selection=selection,
            checked=set(photo),
            size=size,
            title=title,
            errors=[error.message],
            status_code=400,
        )
    day = organisations.local_today(organisation=organisation, now=now).isoformat()
    filename = ascii_filename("consentlens", use, day, extension="zip")
    return Response(
        content=export.data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/staff/publications")
def publications_page(request: Request, session: SessionDep, principal: CurrentStaff) -> Response:
    organisation = principal.organisation
    locale = request_locale(request)
    return render(
        request,
        "publishing/publications.html",
        rows=takedowns.recent_publications(session=session, organisation=organisation),
        limit=takedowns.PUBLICATIONS_SHOWN,
        use_labels={
            u.code: u.label(locale)
            for u in verdicts.photo_uses(session=session, organisation=organisation)
        },
        sizes=SIZE_LABELS,
        organisation=organisation,
    )


# --- takedowns --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TakedownRow:
    takedown: takedowns.Takedown
    thumb_url: str | None


@router.get("/staff/takedowns")
def takedowns_page(
    request: Request, session: SessionDep, principal: CurrentStaff, done: int = 0
) -> Response:
    organisation = principal.organisation
    locale = request_locale(request)
    pending = takedowns.open_takedowns(session=session, organisation=organisation)
    photo_ids = [t.published.photo_id for t in pending if t.published.photo_id is not None]
    summary = verdicts.verdict_summary(session=session, photo_ids=photo_ids)
    rows = [
        TakedownRow(
            takedown,
            # Only photos the club gallery still shows have a thumbnail; the others a plain link.
            _image_url(photo_id, Use.INTERNAL_GALLERY)
            if (photo_id := takedown.published.photo_id) is not None
            and summary[photo_id].get(Use.INTERNAL_GALLERY) in VISIBLE
            else None,
        )
        for takedown in pending
    ]
    return render(
        request,
        "publishing/takedowns.html",
        rows=rows,
        done=bool(done),
        use_labels={
            u.code: u.label(locale)
            for u in verdicts.photo_uses(session=session, organisation=organisation)
        },
        organisation=organisation,
    )


@router.post("/staff/takedowns/{published_id}", dependencies=CSRF)
def takedown_submit(
    request: Request, session: SessionDep, principal: CurrentStaff, published_id: Id
) -> Response:
    try:
        takedowns.mark_taken_down(
            session=session,
            organisation=principal.organisation,
            published_id=published_id,
            user=principal.user,
            now=utcnow(),
            origin=origin_of(request),
        )
    except publishing.PublishError:
        raise HTTPException(404, N_("Page not found")) from None
    return RedirectResponse("/staff/takedowns?done=1", status_code=303)
