"""Staff pages of analysed photos: an event's analysis progress, one photo, its faces and verdicts.

The progress route answers JSON to the page's own script (cookie session plus CSRF token), so it
lives here with the pages rather than in the bearer-token API.
"""

from __future__ import annotations

import gettext as gettext_module
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response

from consentlens.auth.deps import CurrentStaff
from consentlens.consent.uses import Use
from consentlens.core import throttle
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_, get_translations
from consentlens.core.ids import Id
from consentlens.core.pages import not_found
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render, request_locale
from consentlens.faces import derivatives, overview, serving, verdicts
from consentlens.faces.labels import ACTION_LABELS, FACE_STATE_LABELS, STATUS_LABELS
from consentlens.faces.models import REVIEW_STATES
from consentlens.photos import hidings, lookup, service

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
    "photo_deleted": N_("The photo was deleted."),
}
PHOTO_NOTICES = {
    "hidden": N_("The photo is hidden from everyone. Only staff see it, here."),
    "shown": N_("The photo is no longer hidden: the consents decide again."),
    "family_shown": N_("That family sees the photo in their gallery again."),
}


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


@router.get("/staff/photos/{photo_id}")
def photo_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    photo_id: Id,
    use: str = Use.INTERNAL_GALLERY,
    done: str | None = None,
) -> Response:
    organisation = principal.organisation
    photo = lookup.photo_or_404(session=session, principal=principal, photo_id=photo_id)
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
    stored = serving.stored_verdicts(session=session, photo_id=photo.id)
    event = service.get_event(session=session, organisation=organisation, event_id=photo.event_id)
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
        preview=preview,
        stored={v.use_code: v for v in stored},
        face_reasons={
            v.use_code: overview.face_reasons(verdict=v, numbers=numbers) for v in stored
        },
        faces=faces,
        awaiting_review=any(
            row.face.state in REVIEW_STATES and row.face.reviewed_at is None for row in faces
        ),
        image_url=overview.image_url(photo_id=photo.id, use=use, size="display"),
        status_labels=STATUS_LABELS,
        face_state_labels=FACE_STATE_LABELS,
        action_labels=ACTION_LABELS,
        retryable=overview.may_retry(status=photo.status, error=photo.error),
        family_hidings=hidings.family_hidings(session=session, photo=photo),
        notice=PHOTO_NOTICES.get(done or ""),
        tz=organisation.timezone,
    )


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
