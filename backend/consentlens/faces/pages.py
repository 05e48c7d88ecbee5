"""Staff pages of analysed photos: an event's analysis progress, one photo, its faces and verdicts.

The progress route answers JSON to the page's own script (cookie session plus CSRF token), so it
lives here with the pages rather than in the bearer-token API.
"""

from __future__ import annotations

import gettext as gettext_module
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.consent.uses import Use
from consentlens.core import throttle
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_, get_translations
from consentlens.core.ids import Id, parse_id
from consentlens.core.pages import not_found, see_other
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render, request_locale
from consentlens.faces import corrections, derivatives, overview, picker, review, serving, verdicts
from consentlens.faces.labels import ACTION_LABELS, FACE_STATE_LABELS, STATUS_LABELS
from consentlens.faces.models import REVIEW_STATES
from consentlens.faces.review import ReviewError
from consentlens.people import children as child_service
from consentlens.photos import hidings, lookup, service
from consentlens.photos.models import Photo

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]
Text = Annotated[str, Form()]

# no-store, not no-cache: children's images never land in a (shared) browser's disk cache;
# without validators no-cache re-downloaded them anyway.
IMAGE_HEADERS = {"Cache-Control": "private, no-store", "Content-Disposition": "inline"}

NOTICES = {
    "created": N_("The event was created. Add its photos below."),
    "retried": N_("The photo will be analysed again."),
    "uploaded": N_("The files were received. Each file's result is in the list below."),
    "photo_deleted": N_("The photo is deleted."),
}
PHOTO_NOTICES = {
    "hidden": N_("The photo is hidden from everyone. Only staff see it, here."),
    "shown": N_("The photo is no longer hidden: the consents decide again."),
    "family_shown": N_("That family sees the photo in their gallery again."),
}

# What a correction on the photo page did, named in the redirect's query string.
FACE_NOTICES = ("name", "kept_unknown", "unname", "not_a_face")


def _progress_json(
    progress: overview.Progress, t: gettext_module.NullTranslations
) -> dict[str, Any]:
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
                "retryable": tile.retryable,
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


@router.get("/staff/events/{event_id}")
def event_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    event_id: Id,
    done: str | None = None,
) -> Response:
    event = lookup.event_or_404(session=session, principal=principal, event_id=event_id)
    return render(
        request,
        "photos/event.html",
        event=event,
        groups=service.event_groups(session=session, event=event),
        state=_progress_json(
            overview.event_progress(session=session, event=event),
            get_translations(request_locale(request)),
        ),
        status_labels=STATUS_LABELS,
        notice=NOTICES.get(done or ""),
    )


@router.get("/staff/events/{event_id}/progress")
def event_progress(
    request: Request, session: SessionDep, principal: CurrentStaff, event_id: Id
) -> JSONResponse:
    event = lookup.event_or_404(session=session, principal=principal, event_id=event_id)
    return JSONResponse(
        _progress_json(
            overview.event_progress(session=session, event=event),
            get_translations(request_locale(request)),
        ),
        headers={"Cache-Control": "no-store"},
    )


# --- one photo --------------------------------------------------------------------------------


def _photo_page(
    request: Request,
    session: Session,
    principal: Principal,
    photo: Photo,
    *,
    use: str,
    notice: tuple[str, int, int | None] | None = None,
    error: tuple[int, ReviewError] | None = None,
    status_code: int = 200,
    takedown_notice: str | None = None,
) -> Response:
    organisation = principal.organisation
    assert photo.id is not None
    # Judge now, so a consent that lapsed since the last evaluation shows at once.
    evaluation = serving.current_evaluation(
        session=session, organisation=organisation, photo=photo, now=utcnow()
    )
    uses = verdicts.photo_uses(session=session, organisation=organisation)
    codes = [u.code for u in uses]
    if use not in codes:
        use = Use.INTERNAL_GALLERY if Use.INTERNAL_GALLERY in codes else (codes[0] if codes else "")
    preview = None
    if photo.hidden_at is not None:
        # Staff deciding whether to show it again see what that would show (never stored).
        (shown,) = verdicts.evaluate(
            session=session,
            organisation=organisation,
            photos=[photo],
            now=utcnow(),
            as_if_shown=True,
        )
        preview = shown.verdicts.get(use)
    faces = overview.face_rows(session=session, evaluation=evaluation)
    numbers = {row.face.id: row.number for row in faces if row.face.id is not None}
    event = service.get_event(session=session, organisation=organisation, event_id=photo.event_id)
    chosen = next((u for u in uses if u.code == use), None)
    named = None
    if notice is not None and notice[2] is not None:
        named = child_service.get_child(
            session=session, organisation=organisation, child_id=notice[2]
        )
    return render(
        request,
        "photos/photo.html",
        status_code=status_code,
        photo=photo,
        event=event,
        uses=uses,
        use=use,
        use_label=chosen.label(request_locale(request)) if chosen else "",
        verdict=evaluation.verdicts.get(use),
        preview=preview,
        # The verdicts of right now, not the stored ones: a stored row keeps the words of the
        # release that wrote it (an old one showed the consent state's code, "(refused)").
        verdicts_now=evaluation.verdicts,
        face_reasons={
            code: overview.face_reasons(verdict=v, numbers=numbers)
            for code, v in evaluation.verdicts.items()
        },
        faces=faces,
        awaiting_review=any(
            row.face.state in REVIEW_STATES and row.face.reviewed_at is None for row in faces
        ),
        image_url=overview.image_url(photo_id=photo.id, use=use, size="display"),
        status_labels=STATUS_LABELS,
        face_state_labels=FACE_STATE_LABELS,
        action_labels=ACTION_LABELS,
        picker=picker.child_picker(session=session, organisation=organisation, event=event),
        corrections={
            row.face.id: {c.value for c in corrections.allowed(row.face.state)} for row in faces
        },
        notice=(notice[0], numbers.get(notice[1]), named) if notice else None,
        face_error=(error[0], error[1]) if error else None,
        retryable=overview.may_retry(status=photo.status, error=photo.error),
        family_hidings=hidings.family_hidings(session=session, photo=photo),
        takedown_notice=takedown_notice,
        tz=organisation.timezone,
    )


@router.get("/staff/photos/{photo_id}")
def photo_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    photo_id: Id,
    use: str = Use.INTERNAL_GALLERY,
    done: str | None = None,
    face: str | None = None,
    child: str | None = None,
) -> Response:
    photo = lookup.photo_or_404(session=session, principal=principal, photo_id=photo_id)
    face_id = parse_id(face)
    notice = (done, face_id, parse_id(child)) if done in FACE_NOTICES and face_id else None
    return _photo_page(
        request,
        session,
        principal,
        photo,
        use=use,
        notice=notice,
        takedown_notice=PHOTO_NOTICES.get(done or ""),
    )


@router.post("/staff/photos/{photo_id}/faces/{face_id}", dependencies=CSRF)
def face_correct(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    photo_id: Id,
    face_id: Id,
    correction: Text = "",
    state: Text = "",
    child_id: Text = "",
    use: Text = Use.INTERNAL_GALLERY,
) -> Response:
    """Remove a face's name, name another child, or mark it as not a face; re-judged at once."""
    photo = lookup.photo_or_404(session=session, principal=principal, photo_id=photo_id)
    found = review.get_face(session=session, organisation=principal.organisation, face_id=face_id)
    if found is None or found[1].id != photo.id:
        raise not_found()
    face = found[0]
    try:
        try:
            chosen = corrections.Correction(correction)
        except ValueError:
            raise ReviewError(N_("Choose what to do with this face.")) from None
        done = corrections.correct(
            session=session,
            organisation=principal.organisation,
            face=face,
            correction=chosen,
            child_id=parse_id(child_id),
            expected_state=state,
            user=principal.user,
            now=utcnow(),
            origin=origin_of(request),
        )
    except ReviewError as error:
        stale = error.message == corrections.STALE
        return _photo_page(
            request,
            session,
            principal,
            photo,
            use=use,
            error=(face_id, error),
            status_code=status.HTTP_409_CONFLICT if stale else 400,
        )
    kind = "kept_unknown" if done.kept_unknown else done.correction.value
    query = urlencode(
        {"use": use, "done": kind, "face": face_id}
        | ({"child": done.named.id} if done.named else {})
    )
    return see_other(f"/staff/photos/{photo.id}?{query}#face-{face_id}")


@router.get("/staff/photos/{photo_id}/image")
def photo_image(
    session: SessionDep,
    principal: CurrentStaff,
    photo_id: Id,
    use: str = Use.INTERNAL_GALLERY,
    size: str = "display",
) -> Response:
    """The photo as it may appear in `use`, rendered from the verdict right now."""
    throttle.check_image(principal.user.id or 0)
    photo = lookup.photo_or_404(session=session, principal=principal, photo_id=photo_id)
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
            as_if_shown=True,
        )
    except KeyError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, N_("Unknown photo use.")
        ) from None
    except serving.NotServable:
        # The same answer as for a photo that does not exist: a hidden photo reveals nothing.
        raise not_found() from None
    return Response(data, media_type="image/jpeg", headers=IMAGE_HEADERS)
