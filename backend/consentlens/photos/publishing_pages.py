"""Staff pages for publishing photos as a ZIP, the list of past publications and of photos to
take down, and the admin's photo settings (retention, watermark) with the events due for deletion.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentAdmin, CurrentStaff, Principal
from consentlens.auth.models import User
from consentlens.consent.models import ConsentUse
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.ids import Id, parse_id
from consentlens.core.security import verify_csrf
from consentlens.core.templating import render, request_locale
from consentlens.db.base import utcnow
from consentlens.forms.pages import ascii_filename
from consentlens.organisations.models import Organisation
from consentlens.photos import gallery, publishing, retention, service, verdicts
from consentlens.photos.models import Photo, Publication

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]

GALLERY = "internal_gallery"
DEFAULT_USE = "website"
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
PUBLICATIONS_SHOWN = 200


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
        for use in verdicts.photo_uses(session, organisation)
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
    return service.event_photos(session, event) if event is not None else []


def _choices(
    session: Session, photos: list[Photo], use: str, checked: set[int] | None
) -> list[Choice]:
    ids = [photo.id for photo in photos if photo.id is not None]
    summary = gallery.verdict_summary(session, ids)
    choices = []
    for photo in photos:
        assert photo.id is not None
        verdict = summary[photo.id].get(use, "")
        # Thumbnails as they would be published; a photo left out shows as in the club gallery.
        if verdict in VISIBLE:
            thumb: str | None = _image_url(photo.id, use)
        elif summary[photo.id].get(GALLERY) in VISIBLE:
            thumb = _image_url(photo.id, GALLERY)
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
        open_takedowns=len(publishing.open_takedowns(session, organisation)),
    )


@router.get("/staff/publish")
def publish_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    use: str = DEFAULT_USE,
    event: str = "",
    photo: Annotated[list[Id], Query()] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    return _publish_page(
        request, session, principal, use=use, event_id=_event_id(event), selection=photo
    )


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
) -> Response:
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
    day = retention.local_today(organisation, now).isoformat()
    filename = ascii_filename("consentlens", use, day, extension="zip")
    return Response(
        content=export.data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@dataclass(frozen=True, slots=True)
class PublicationRow:
    publication: Publication
    by: str
    open_takedowns: int


def _publications(session: Session, organisation: Organisation) -> list[PublicationRow]:
    """The most recent publications, with who made them and how many photos must come down."""
    waiting = Counter(
        takedown.publication.id for takedown in publishing.open_takedowns(session, organisation)
    )
    rows = session.exec(
        select(Publication, User.full_name)
        .join(User, col(User.id) == Publication.created_by_id, isouter=True)
        .where(Publication.organisation_id == organisation.id)
        .order_by(col(Publication.created_at).desc(), col(Publication.id).desc())
        .limit(PUBLICATIONS_SHOWN)
    )
    return [
        PublicationRow(publication, by or "", waiting[publication.id]) for publication, by in rows
    ]


@router.get("/staff/publications")
def publications_page(request: Request, session: SessionDep, principal: CurrentStaff) -> Response:
    organisation = principal.organisation
    locale = request_locale(request)
    return render(
        request,
        "publishing/publications.html",
        rows=_publications(session, organisation),
        limit=PUBLICATIONS_SHOWN,
        use_labels={u.code: u.label(locale) for u in verdicts.photo_uses(session, organisation)},
        sizes=SIZE_LABELS,
        organisation=organisation,
    )


# --- takedowns --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TakedownRow:
    takedown: publishing.Takedown
    thumb_url: str | None


@router.get("/staff/takedowns")
def takedowns_page(
    request: Request, session: SessionDep, principal: CurrentStaff, done: int = 0
) -> Response:
    organisation = principal.organisation
    locale = request_locale(request)
    takedowns = publishing.open_takedowns(session, organisation)
    photo_ids = [t.published.photo_id for t in takedowns if t.published.photo_id is not None]
    summary = gallery.verdict_summary(session, photo_ids)
    rows = [
        TakedownRow(
            takedown,
            # Only photos the club gallery still shows have a thumbnail; the others a plain link.
            _image_url(photo_id, GALLERY)
            if (photo_id := takedown.published.photo_id) is not None
            and summary[photo_id].get(GALLERY) in VISIBLE
            else None,
        )
        for takedown in takedowns
    ]
    return render(
        request,
        "publishing/takedowns.html",
        rows=rows,
        done=bool(done),
        use_labels={u.code: u.label(locale) for u in verdicts.photo_uses(session, organisation)},
        organisation=organisation,
    )


@router.post("/staff/takedowns/{published_id}", dependencies=CSRF)
def takedown_submit(
    request: Request, session: SessionDep, principal: CurrentStaff, published_id: Id
) -> Response:
    try:
        publishing.mark_taken_down(
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


# --- admin: retention and watermark -----------------------------------------------------------


class SettingsError(ValueError):
    """Photo settings that cannot be saved; `message` is a msgid."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _parse_months(raw: str) -> int:
    text = raw.strip()
    months = int(text) if text.isdigit() else 0
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise SettingsError(
            N_("Enter how many months photos are kept: a whole number from 1 to 120.")
        )
    return months


def _save_settings(
    *,
    session: Session,
    organisation: Organisation,
    user: User,
    retention_months: int,
    watermark: bool,
    origin: audit.Origin,
) -> None:
    """Store the photo settings; a change is audited with the old and new values."""
    changes: dict[str, list[int | bool]] = {}
    if organisation.retention_months != retention_months:
        changes["retention_months"] = [organisation.retention_months, retention_months]
    if organisation.watermark_photos != watermark:
        changes["watermark_photos"] = [organisation.watermark_photos, watermark]
    if not changes:
        return
    organisation.retention_months = retention_months
    organisation.watermark_photos = watermark
    session.add(organisation)
    audit.record(
        session=session,
        action="photos.settings_changed",
        organisation_id=organisation.id,
        actor_id=user.id,
        subject_type="organisation",
        subject_id=organisation.id,
        details=changes,
        origin=origin,
    )
    session.flush()


def _settings_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    values: dict[str, str | bool] | None = None,
    errors: list[str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    organisation = principal.organisation
    now = utcnow()
    return render(
        request,
        "publishing/settings.html",
        status_code=status_code,
        errors=errors or [],
        values=values
        or {
            "retention_months": str(organisation.retention_months),
            "watermark": organisation.watermark_photos,
        },
        saved=saved,
        organisation=organisation,
        due=retention.due_events(session=session, organisation=organisation, now=now),
        today=retention.local_today(organisation, now),
        notice_days=retention.NOTICE_DAYS,
        min_months=MIN_MONTHS,
        max_months=MAX_MONTHS,
    )


@router.get("/admin/photo-settings")
def settings_page(
    request: Request, session: SessionDep, principal: CurrentAdmin, saved: int = 0
) -> Response:
    return _settings_page(request, session, principal, saved=bool(saved))


@router.post("/admin/photo-settings", dependencies=CSRF)
def settings_submit(
    request: Request,
    session: SessionDep,
    principal: CurrentAdmin,
    retention_months: Annotated[str, Form()] = "",
    watermark: Annotated[str, Form()] = "",
) -> Response:
    try:
        months = _parse_months(retention_months)
    except SettingsError as error:
        values: dict[str, str | bool] = {
            "retention_months": retention_months,
            "watermark": watermark == "yes",
        }
        return _settings_page(
            request, session, principal, values=values, errors=[error.message], status_code=400
        )
    _save_settings(
        session=session,
        organisation=principal.organisation,
        user=principal.user,
        retention_months=months,
        watermark=watermark == "yes",
        origin=origin_of(request),
    )
    return RedirectResponse("/admin/photo-settings?saved=1", status_code=303)
