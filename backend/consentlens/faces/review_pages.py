"""Staff pages for faces: the review queue of an event, face crops, and reference faces of a child.

Post/redirect/get: a choice answers 303 to the queue with a notice named in the query string; a
choice that cannot be applied re-renders the queue with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.consent.pages import render_child_page
from consentlens.core import throttle
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.ids import Id, parse_id
from consentlens.core.pages import found_or_404, not_found
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render
from consentlens.faces import enrollment, picker, review, review_form, serving
from consentlens.people import children as child_service
from consentlens.people.models import Child
from consentlens.photos import ingest, lookup, service
from consentlens.photos.models import Event

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]
# no-store, not no-cache: children's images never land in a (shared) browser's disk cache;
# without validators no-cache re-downloaded them anyway.
CROP_HEADERS = {"Cache-Control": "private, no-store"}
# Errors that mean the queue changed under the reviewer (409), not that the form was wrong (400).
STALE = {
    N_("Some of these faces no longer exist. Reload the page."),
    N_("Someone has already reviewed some of these faces. Reload the page."),
    N_("Some of these faces are not waiting for review here. Reload the page."),
}
# The "Yes, this is …" button: the suggested child travels in its own hidden field so that the
# child select of the same form cannot change what the button says.
SUGGESTED = "suggested"
NOTICES = ("named", "kept_unknown", "stranger", "not_a_face")
# The key of the bulk bar, where an error of the bulk button is shown.
BULK_CARD = "bulk"


@dataclass(frozen=True, slots=True)
class Notice:
    """What the last choice did, rebuilt from the redirect's query string."""

    kind: str
    faces: int
    child: Child | None


def _child(session: Session, principal: Principal, child_id: int) -> Child:
    child = child_service.get_child(
        session=session, organisation=principal.organisation, child_id=child_id
    )
    if child is None:
        raise not_found()
    return child


def _choice(value: str) -> review.Choice:
    try:
        return review.Choice(value)
    except ValueError:
        raise review.ReviewError(N_("Choose what to do with these faces.")) from None


def _error_place(submitted: review_form.Submitted) -> str | None:
    if submitted.choice == review_form.BULK:
        return BULK_CARD
    return submitted.card


def _queue_page(
    request: Request,
    session: Session,
    principal: Principal,
    event: Event,
    *,
    notice: Notice | None = None,
    error: review.ReviewError | None = None,
    submitted: review_form.Submitted | None = None,
    status_code: int = 200,
) -> Response:
    organisation = principal.organisation
    groups = review.queue(session=session, event=event)
    children = picker.child_picker(session=session, organisation=organisation, event=event)
    names = {o.id: o.name for o in [*children.event_children, *children.other_children]}
    suggestions = {g.suggested_child_id for g in groups if g.suggested_child_id is not None}
    for suggested in suggestions - names.keys():
        # A suggestion can outlive an archiving; the name is still the reviewer's best clue.
        archived = child_service.get_child(
            session=session, organisation=organisation, child_id=suggested
        )
        names[suggested] = archived.full_name if archived else ""
    return render(
        request,
        "photos/review.html",
        status_code=status_code,
        event=event,
        groups=groups,
        names=names,
        photo_names={
            photo.id: photo.original_name
            for photo in service.event_photos(session=session, event=event)
        },
        picker=children,
        notice=notice,
        review_error=error,
        # Where the error goes: the card whose button was pressed, the bulk bar, or (a form
        # without card keys) the top of the page.
        error_card=_error_place(submitted) if submitted and error else None,
        kept=submitted.cards if submitted else {},
        suggested_value=SUGGESTED,
        bulk_value=review_form.BULK,
    )


@router.get("/staff/events/{event_id}/review")
def review_queue(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    event_id: Id,
    done: str | None = None,
    faces: str | None = None,
    child: str | None = None,
) -> Response:
    event = lookup.event_or_404(session=session, principal=principal, event_id=event_id)
    notice = None
    count = parse_id(faces) or 0
    if done in NOTICES and count > 0:
        child_id = parse_id(child)
        named = (
            child_service.get_child(
                session=session, organisation=principal.organisation, child_id=child_id
            )
            if child_id is not None
            else None
        )
        if named is not None or done in ("stranger", "not_a_face"):
            notice = Notice(done, count, named)
    return _queue_page(request, session, principal, event, notice=notice)


@router.post("/staff/events/{event_id}/review", dependencies=CSRF)
def review_decide(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    event_id: Id,
    choice: Annotated[str, Form()] = "",
    face_ids: Annotated[list[str] | None, Form()] = None,
    child_id: Annotated[list[str] | None, Form()] = None,
    suggested_child_id: Annotated[list[str] | None, Form()] = None,
    selected: Annotated[list[str] | None, Form()] = None,
) -> Response:
    event = lookup.event_or_404(session=session, principal=principal, event_id=event_id)
    submitted = review_form.parse(
        choice=choice,
        face_ids=face_ids or [],
        child_ids=child_id or [],
        suggested_child_ids=suggested_child_id or [],
        selected=selected or [],
    )
    card = submitted.chosen()
    try:
        if submitted.choice == SUGGESTED:
            chosen, picked = review.Choice.CHILD, card.suggested_child_id
        elif submitted.choice == review_form.BULK:
            chosen, picked = review.Choice.STRANGER, None
        else:
            chosen, picked = _choice(submitted.choice), card.child_id
        outcome = review.decide(
            session=session,
            organisation=principal.organisation,
            event=event,
            face_ids=submitted.face_ids(),
            choice=chosen,
            child_id=picked,
            user=principal.user,
            now=utcnow(),
            origin=origin_of(request),
        )
    except review.ReviewError as error:
        # Nothing was written: decide() checks everything before it changes a face.
        code = status.HTTP_409_CONFLICT if error.message in STALE else 400
        return _queue_page(
            request,
            session,
            principal,
            event,
            error=error,
            submitted=submitted,
            status_code=code,
        )
    if outcome.kept_unknown:
        done = "kept_unknown"
    elif chosen is review.Choice.CHILD:
        done = "named"
    else:
        done = chosen.value
    url = f"/staff/events/{event.id}/review?done={done}&faces={outcome.faces}"
    if outcome.named is not None:
        url += f"&child={outcome.named.id}"
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


@router.get(
    "/staff/faces/{face_id}/crop",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def face_crop(session: SessionDep, principal: CurrentStaff, face_id: Id) -> Response:
    throttle.check_image(principal.user.id or 0)
    face, photo = found_or_404(
        review.get_face(session=session, organisation=principal.organisation, face_id=face_id)
    )
    try:
        data = serving.face_crop(
            session=session, photo=photo, face=face, viewer_is_staff=principal.is_staff
        )
    except serving.NotServable:
        raise not_found() from None
    return Response(data, media_type="image/jpeg", headers=CROP_HEADERS)


@router.post("/staff/children/{child_id}/reference-photos", dependencies=CSRF)
def reference_add(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    child_id: Id,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    child = _child(session, principal, child_id)
    organisation = principal.organisation
    now = utcnow()
    try:
        enrollment.require_recognition_consent(
            session=session, organisation=organisation, child=child, now=now
        )
        if file is None:
            raise ingest.UploadRejected(N_("The file is empty."))
        with ingest.receive(file.file) as received:
            ingest.inspect(received.path)
            enrollment.enroll_portrait(
                session=session,
                organisation=organisation,
                child=child,
                path=received.path,
                user=principal.user,
                now=now,
                origin=origin_of(request),
            )
    except (ingest.UploadRejected, enrollment.EnrollmentRefused) as refused:
        conflict = isinstance(refused, enrollment.EnrollmentRefused) and refused.conflict
        return render_child_page(
            request,
            session,
            principal,
            child,
            status_code=status.HTTP_409_CONFLICT if conflict else 422,
            face_error=(refused.message, refused.params),
        )
    return RedirectResponse(
        f"/staff/children/{child.id}?faces=added",
        status_code=status.HTTP_303_SEE_OTHER,
    )


@router.post("/staff/children/{child_id}/reference-photos/delete", dependencies=CSRF)
def reference_delete(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    child_id: Id,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    child = _child(session, principal, child_id)
    assert child.id is not None
    if confirm != "yes":
        return render_child_page(
            request,
            session,
            principal,
            child,
            status_code=400,
            face_error=(N_("Tick the box to confirm that the reference faces go."), {}),
        )
    enrollment.forget_child(
        session=session,
        organisation=principal.organisation,
        child_id=child.id,
        now=utcnow(),
        reason="Deleted by staff.",
        actor_id=principal.user.id,
    )
    return RedirectResponse(
        f"/staff/children/{child.id}?faces=deleted",
        status_code=status.HTTP_303_SEE_OTHER,
    )
