"""Staff pages for event photos: events, uploading, analysis progress, one photo and its verdicts.

The upload and progress routes answer JSON to the page's own scripts (cookie session plus CSRF
token), so they live here with the pages rather than in the bearer-token API.
"""

from __future__ import annotations

import gettext as gettext_module
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlmodel import Session, col, func, select

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_, get_translations
from consentlens.core.ids import Id
from consentlens.core.security import verify_csrf
from consentlens.core.templating import render, request_locale
from consentlens.db.base import utcnow
from consentlens.people import groups as group_service
from consentlens.people.models import Child
from consentlens.photos import (
    derivatives,
    ingest,
    lookup,
    review,
    service,
    serving,
    throttle,
    verdicts,
    worker,
)
from consentlens.photos.models import (
    REVIEW_STATES,
    Event,
    Face,
    FaceState,
    Photo,
    PhotoStatus,
    StoredVerdict,
)
from consentlens.photos.service import EventError

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]
Text = Annotated[str, Form()]

GALLERY = "internal_gallery"
ANALYSED = (PhotoStatus.READY.value, PhotoStatus.NEEDS_REVIEW.value)
BUSY = (PhotoStatus.PENDING.value, PhotoStatus.PROCESSING.value)
# no-store, not no-cache: children's images never land in a (shared) browser's disk cache;
# without validators no-cache re-downloaded them anyway.
IMAGE_HEADERS = {"Cache-Control": "private, no-store", "Content-Disposition": "inline"}

STATUS_LABELS = {
    PhotoStatus.PENDING.value: N_("Queued"),
    PhotoStatus.PROCESSING.value: N_("Analysing"),
    PhotoStatus.READY.value: N_("Ready"),
    PhotoStatus.NEEDS_REVIEW.value: N_("Needs review"),
    PhotoStatus.FAILED.value: N_("Failed"),
}
FACE_STATE_LABELS = {
    FaceState.IDENTIFIED.value: N_("Recognised"),
    FaceState.CONFIRMED.value: N_("Confirmed by staff"),
    FaceState.UNCERTAIN.value: N_("Uncertain"),
    FaceState.UNKNOWN.value: N_("Not recognised"),
    FaceState.TOO_SMALL.value: N_("Too small to recognise"),
    FaceState.NOT_A_FACE.value: N_("Not a face"),
}
ACTION_LABELS = {
    "show": N_("Shown"),
    "blur": N_("Shown, faces blurred"),
    "hide": N_("Hidden"),
}
GROUP_ERROR = "One of the chosen groups does not exist."
# Notices after a redirect: only these fixed messages can be shown, whatever the URL says.
NOTICES = {
    "created": N_("The event was created. Add its photos below."),
    "retried": N_("The photo will be analysed again."),
    "uploaded": N_("The files were received. Each file's result is in the list below."),
}


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def _translations(request: Request) -> gettext_module.NullTranslations:
    return get_translations(request_locale(request))


# --- what the event page shows of each photo --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tile:
    """One photo of an event as the progress list and the thumbnail grid show it."""

    id: int
    name: str
    status: str
    error: str
    faces: int
    width: int
    height: int
    thumb_url: str | None

    @property
    def url(self) -> str:
        return f"/staff/photos/{self.id}"


def _face_counts(session: Session, event: Event) -> Counter[int]:
    # Faces staff said are not faces are not counted: they play no part in any verdict.
    rows = session.exec(
        select(Face.photo_id, func.count())
        .join(Photo, col(Photo.id) == Face.photo_id)
        .where(Photo.event_id == event.id, Face.state != FaceState.NOT_A_FACE.value)
        .group_by(col(Face.photo_id))
    )
    return Counter(dict(rows.all()))


def _hidden_in_gallery(session: Session, event: Event) -> set[int]:
    """Photos whose last verdict hides them in the internal gallery: no thumbnail to offer."""
    return set(
        session.exec(
            select(StoredVerdict.photo_id)
            .join(Photo, col(Photo.id) == StoredVerdict.photo_id)
            .where(
                Photo.event_id == event.id,
                StoredVerdict.use_code == GALLERY,
                StoredVerdict.action == "hide",
            )
        )
    )


def _tiles(session: Session, event: Event) -> list[Tile]:
    photos = service.event_photos(session, event)
    faces = _face_counts(session, event)
    hidden = _hidden_in_gallery(session, event)
    tiles = []
    for photo in photos:
        assert photo.id is not None
        servable = photo.status in ANALYSED and photo.id not in hidden
        tiles.append(
            Tile(
                id=photo.id,
                name=photo.original_name or f"#{photo.id}",
                status=photo.status,
                error=photo.error if photo.status == PhotoStatus.FAILED.value else "",
                faces=faces[photo.id],
                width=photo.width,
                height=photo.height,
                thumb_url=_image_url(photo.id, GALLERY, "thumb") if servable else None,
            )
        )
    return tiles


def _image_url(photo_id: int, use: str, size: str) -> str:
    return f"/staff/photos/{photo_id}/image?use={use}&size={size}"


@dataclass(frozen=True, slots=True)
class Progress:
    tiles: list[Tile]
    counts: dict[str, int]
    awaiting_review: int

    @property
    def total(self) -> int:
        return len(self.tiles)

    @property
    def analysed(self) -> int:
        return sum(self.counts[s] for s in ANALYSED)

    @property
    def busy(self) -> bool:
        return any(self.counts[s] for s in BUSY)


def _progress(session: Session, event: Event) -> Progress:
    tiles = _tiles(session, event)
    counts = Counter(tile.status for tile in tiles)
    return Progress(
        tiles=tiles,
        counts={s.value: counts[s.value] for s in PhotoStatus},
        awaiting_review=len(review.pending_faces(session, event)),
    )


def _progress_json(progress: Progress, t: gettext_module.NullTranslations) -> dict[str, Any]:
    """The progress as the page's script shows it, every text already translated."""
    return {
        "total": progress.total,
        "analysed": progress.analysed,
        "counts": progress.counts,
        "busy": progress.busy,
        "analysed_label": t.gettext("%(done)d of %(total)d analysed")
        % {"done": progress.analysed, "total": progress.total},
        "awaiting_review": progress.awaiting_review,
        "review_label": t.ngettext(
            "Review %(num)d face", "Review %(num)d faces", progress.awaiting_review
        )
        % {"num": progress.awaiting_review}
        if progress.awaiting_review
        else t.gettext("No faces to review"),
        "photos": [
            {
                "id": tile.id,
                "name": tile.name,
                "url": tile.url,
                "status": tile.status,
                "status_label": t.gettext(STATUS_LABELS[tile.status]),
                "error": tile.error,
                "faces": tile.faces,
                "faces_label": t.ngettext("%(num)d face", "%(num)d faces", tile.faces)
                % {"num": tile.faces},
                "thumb_url": tile.thumb_url,
                "width": tile.width,
                "height": tile.height,
            }
            for tile in progress.tiles
        ],
    }


# --- events -----------------------------------------------------------------------------------


def _events_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    form: dict[str, Any] | None = None,
    error: EventError | None = None,
) -> Response:
    organisation = principal.organisation
    events = service.list_events(session=session, organisation=organisation)
    counts = service.photo_counts(session, [e.id for e in events if e.id is not None])
    today = utcnow().astimezone(ZoneInfo(organisation.timezone)).date()
    return render(
        request,
        "photos/events.html",
        status_code=status.HTTP_400_BAD_REQUEST if error else status.HTTP_200_OK,
        events=[(e, service.event_groups(session, e), counts[e.id]) for e in events],
        groups=group_service.list_groups(session=session, organisation=organisation),
        form=form
        or {"name": "", "event_date": today.isoformat(), "group_ids": set(), "invalid": ""},
        error=error,
    )


@router.get("/staff/events")
def events_page(request: Request, session: SessionDep, principal: CurrentStaff) -> Response:
    return _events_page(request, session, principal)


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
    return _see(f"/staff/events/{event.id}?done=created")


@router.get("/staff/events/{event_id}")
def event_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    event_id: Id,
    done: str | None = None,
) -> Response:
    event = lookup.event_or_404(session, principal, event_id)
    return render(
        request,
        "photos/event.html",
        event=event,
        groups=service.event_groups(session, event),
        state=_progress_json(_progress(session, event), _translations(request)),
        status_labels=STATUS_LABELS,
        notice=NOTICES.get(done or ""),
    )


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
    event = lookup.event_or_404(session, principal, event_id)
    t = _translations(request)
    outcomes = []
    for upload in files:
        result = service.add_upload(
            session=session,
            organisation=principal.organisation,
            event=event,
            source=upload.file,
            filename=upload.filename or "",
            user=principal.user,
            origin=origin_of(request),
        )
        photo = result.photo
        outcomes.append(
            {
                "filename": result.filename,
                "id": photo.id if photo else None,
                "event_id": photo.event_id if photo else None,
                "status": photo.status if photo else None,
                "duplicate": result.duplicate,
                "error": t.gettext(result.error).format(**(result.error_params or {}))
                if photo is None
                else None,
            }
        )
    # The worker runs in other sessions: it can only see the photos once they are committed.
    session.commit()
    worker.wake()
    accept = request.headers.get("accept", "")
    if "text/html" in accept and "application/json" not in accept:
        # A plain form post (no script): show the event page with the photos in their list.
        return _see(f"/staff/events/{event.id}?done=uploaded")
    return JSONResponse(outcomes)


@router.get("/staff/events/{event_id}/progress")
def event_progress(
    request: Request, session: SessionDep, principal: CurrentStaff, event_id: Id
) -> JSONResponse:
    event = lookup.event_or_404(session, principal, event_id)
    return JSONResponse(
        _progress_json(_progress(session, event), _translations(request)),
        headers={"Cache-Control": "no-store"},
    )


@router.post("/staff/photos/{photo_id}/retry", dependencies=CSRF)
def photo_retry(session: SessionDep, principal: CurrentStaff, photo_id: Id) -> Response:
    photo = lookup.photo_or_404(session, principal, photo_id)
    service.retry_photo(session=session, photo=photo)
    session.commit()
    worker.wake()
    return _see(f"/staff/events/{photo.event_id}?done=retried#photo-{photo.id}")


# --- one photo --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FaceRow:
    number: int
    face: Face
    child: Child | None
    suggested: Child | None


@dataclass(frozen=True, slots=True)
class FaceReasons:
    """Faces that got the same verdict for the same reason in one use, listed once."""

    numbers: list[int]
    visible: bool
    reason: str
    params: dict[str, Any]


def _face_reasons(verdict: StoredVerdict, numbers: dict[int, int]) -> list[FaceReasons]:
    groups: dict[tuple[bool, str, str], FaceReasons] = {}
    for entry in verdict.face_reasons:
        params = entry.get("params") or {}
        key = (bool(entry["visible"]), entry["reason"], repr(sorted(params.items())))
        group = groups.setdefault(
            key, FaceReasons([], bool(entry["visible"]), entry["reason"], params)
        )
        if entry["face_id"] in numbers:
            group.numbers.append(numbers[entry["face_id"]])
    return list(groups.values())


@router.get("/staff/photos/{photo_id}")
def photo_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    photo_id: Id,
    use: str = GALLERY,
) -> Response:
    organisation = principal.organisation
    photo = lookup.photo_or_404(session, principal, photo_id)
    assert photo.id is not None
    # Judge now, so a consent that lapsed since the last evaluation shows at once.
    evaluation = serving.current_evaluation(
        session=session, organisation=organisation, photo=photo, now=utcnow()
    )
    uses = verdicts.photo_uses(session, organisation)
    codes = [u.code for u in uses]
    if use not in codes:
        use = GALLERY if GALLERY in codes else (codes[0] if codes else "")
    faces = [
        FaceRow(
            number,
            face,
            session.get(Child, face.child_id) if face.child_id else None,
            session.get(Child, face.suggested_child_id) if face.suggested_child_id else None,
        )
        for number, face in enumerate(evaluation.faces, start=1)
    ]
    numbers = {row.face.id: row.number for row in faces if row.face.id is not None}
    stored = serving.stored_verdicts(session, photo.id)
    event = session.get(Event, photo.event_id)
    chosen = next((u for u in uses if u.code == use), None)
    return render(
        request,
        "photos/photo.html",
        photo=photo,
        event=event,
        uses=uses,
        use=use,
        use_label=chosen.label(request_locale(request)) if chosen else "",
        verdict=evaluation.verdicts.get(use),
        stored={v.use_code: v for v in stored},
        face_reasons={v.use_code: _face_reasons(v, numbers) for v in stored},
        faces=faces,
        awaiting_review=any(
            row.face.state in REVIEW_STATES and row.face.reviewed_at is None for row in faces
        ),
        image_url=_image_url(photo.id, use, "display"),
        status_labels=STATUS_LABELS,
        face_state_labels=FACE_STATE_LABELS,
        action_labels=ACTION_LABELS,
    )


@router.get("/staff/photos/{photo_id}/image")
def photo_image(
    session: SessionDep,
    principal: CurrentStaff,
    photo_id: Id,
    use: str = GALLERY,
    size: str = "display",
) -> Response:
    """The photo as it may appear in `use`, rendered from the verdict right now."""
    throttle.check_image(principal.user.id or 0)
    photo = lookup.photo_or_404(session, principal, photo_id)
    if size not in derivatives.SIZES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, N_("Unknown image size."))
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
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, N_("Unknown photo use.")
        ) from None
    except serving.NotServable:
        # The same answer as for a photo that does not exist: a hidden photo reveals nothing.
        raise lookup.not_found() from None
    return Response(data, media_type="image/jpeg", headers=IMAGE_HEADERS)
