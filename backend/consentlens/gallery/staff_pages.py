"""The staff gallery: every photo of the club with its verdicts, and guardians' removal requests."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import Response
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.consent.models import ConsentUse
from consentlens.consent.uses import Use
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.ids import Id, parse_id
from consentlens.core.pages import not_found, see_other
from consentlens.core.security import verify_csrf
from consentlens.core.templating import render
from consentlens.faces import verdicts
from consentlens.faces.labels import ACTION_LABELS, STATUS_LABELS
from consentlens.gallery import removals, visibility
from consentlens.gallery import scopes as gallery
from consentlens.gallery import tiles as grid
from consentlens.gallery.scopes import StaffFilter
from consentlens.people import children as child_service
from consentlens.people import groups as group_service
from consentlens.photos import lookup, service

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]
Text = Annotated[str, Form()]

STAFF_NOTICES = {
    "hidden": N_("Done: the photo is hidden from everyone. The family was told."),
    "hidden_family": N_("Done: the photo is hidden from that family's gallery. They were told."),
    "deleted": N_("Done: the photo was deleted. The family was told."),
    "declined": N_("The request was declined. The family was told why."),
    "already": N_("This request was already resolved."),
}
SHOW_LABELS = {
    StaffFilter.ALL.value: N_("All photos"),
    StaffFilter.NEEDS_REVIEW.value: N_("Needs review"),
    StaffFilter.HIDDEN_FROM_WEBSITE.value: N_("Hidden from the website"),
    StaffFilter.FAILED.value: N_("Analysis failed"),
    StaffFilter.HIDDEN_BY_STAFF.value: N_("Hidden by staff"),
}


# --- staff --------------------------------------------------------------------------------------


def _hidden(summary: dict[int, dict[str, str]]) -> set[int]:
    """Photos with no gallery thumbnail to ask for: the verdict hides them, or none exists yet."""
    return {
        i for i, actions in summary.items() if actions.get(Use.INTERNAL_GALLERY, "hide") == "hide"
    }


def _overlay(actions: dict[str, str], uses: list[ConsentUse]) -> list[tuple[str, list[ConsentUse]]]:
    """The uses per action (shown, blurred, hidden): three short lines read faster than six."""
    return [
        (action, grouped)
        for action in ACTION_LABELS
        if (grouped := [u for u in uses if actions.get(u.code) == action])
    ]


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
    chosen = {"group": parse_id(group), "event": parse_id(event), "child": parse_id(child)}
    shown = StaffFilter(show) if show in {f.value for f in StaffFilter} else StaffFilter.ALL
    page = gallery.staff_photos(
        session=session,
        principal=principal,
        group_id=chosen["group"],
        event_id=chosen["event"],
        child_id=chosen["child"],
        show=shown,
        before=before,
    )
    summary = verdicts.verdict_summary(
        session=session, photo_ids=[p.id for p in page.photos if p.id is not None]
    )
    uses = verdicts.photo_uses(session=session, organisation=organisation)
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
        tiles=grid.tiles(
            session=session,
            organisation=organisation,
            photos=page.photos,
            link="/staff/photos/{id}",
            hidden=_hidden(summary),
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


def _queue_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    notice: str | None = None,
    errors: list[str] | None = None,
    failed: int | None = None,
    reason: str = "",
) -> Response:
    rows = removals.open_removal_requests(session=session, organisation=principal.organisation)
    hidden = _hidden(
        verdicts.verdict_summary(
            session=session, photo_ids=[p.id for _, _, p in rows if p and p.id is not None]
        )
    )
    return render(
        request,
        "gallery/removals.html",
        status_code=status.HTTP_400_BAD_REQUEST if errors else status.HTTP_200_OK,
        rows=[
            (
                removal,
                user,
                photo,
                None
                if photo is None or photo.id is None or photo.id in hidden
                else grid.image_url(photo_id=photo.id, size="thumb"),
                grid.fit(photo=photo, size="thumb") if photo else (0, 0),
            )
            for removal, user, photo in rows
        ],
        notice=notice,
        # Shown on the request's own card, not at the top of the page.
        card_errors=errors or [],
        failed=failed,
        reason=reason,
        reason_limit=removals.REASON_LIMIT,
        tz=principal.organisation.timezone,
    )


@router.get("/staff/removal-requests")
def staff_removals(
    request: Request, session: SessionDep, principal: CurrentStaff, done: str | None = None
) -> Response:
    return _queue_page(request, session, principal, notice=STAFF_NOTICES.get(done or ""))


@router.post("/staff/removal-requests/{request_id}", dependencies=CSRF)
def staff_resolve(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    request_id: Id,
    outcome: Text = "",
    reason: Text = "",
    confirm: Text = "",
) -> Response:
    removal = removals.get_removal_request(
        session=session, organisation=principal.organisation, request_id=request_id
    )
    if removal is None:
        raise not_found()
    if removal.resolved_at is not None:
        return see_other("/staff/removal-requests?done=already")
    if outcome not in {o.value for o in removals.Outcome}:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, N_("Choose what happens to the photo."))
    chosen = removals.Outcome(outcome)
    if chosen is removals.Outcome.DELETED and not principal.is_admin:
        # As on the photo page: deleting is for admins; hiding does the same for families.
        return _queue_page(
            request,
            session,
            principal,
            errors=[
                N_(
                    "Only an administrator can delete a photo. Hide it from everyone instead: "
                    "you can undo that."
                )
            ],
            failed=removal.id,
            reason=reason,
        )
    if chosen is removals.Outcome.DELETED and confirm != "yes" and removal.photo_id is not None:
        return _confirm_delete(
            request,
            session,
            principal,
            photo_id=removal.photo_id,
            action=f"/staff/removal-requests/{removal.id}",
            back="/staff/removal-requests",
        )
    try:
        removals.resolve_removal(
            session=session,
            principal=principal,
            removal=removal,
            outcome=chosen,
            reason=reason,
            origin=origin_of(request),
        )
    except removals.RemovalError as error:
        return _queue_page(
            request, session, principal, errors=[str(error)], failed=removal.id, reason=reason
        )
    return see_other(f"/staff/removal-requests?done={chosen.value}")


# --- the staff photo page's controls ------------------------------------------------------------


def _confirm_delete(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    photo_id: int,
    action: str,
    back: str,
) -> Response:
    """The confirmation step before a request's photo is deleted for good."""
    photo = lookup.photo_or_404(session=session, principal=principal, photo_id=photo_id)
    assert photo.id is not None
    return render(
        request,
        "gallery/confirm_delete.html",
        photo=photo,
        event=service.get_event(
            session=session, organisation=principal.organisation, event_id=photo.event_id
        ),
        thumb_url=f"/staff/photos/{photo.id}/image?size=thumb",
        size=grid.fit(photo=photo, size="thumb"),
        action=action,
        back=back,
    )


@router.post("/staff/photos/{photo_id}/hide", dependencies=CSRF)
def staff_hide(
    request: Request, session: SessionDep, principal: CurrentStaff, photo_id: Id
) -> Response:
    photo = lookup.photo_or_404(session=session, principal=principal, photo_id=photo_id)
    open_requests = removals.open_removal_requests(
        session=session, organisation=principal.organisation, photo_id=photo_id
    )
    if open_requests and photo.hidden_at is None:
        # Families who asked are answered, as hiding from their request would.
        removals.resolve_removal(
            session=session,
            principal=principal,
            removal=open_requests[0][0],
            outcome=removals.Outcome.HIDDEN,
            origin=origin_of(request),
        )
    else:
        visibility.hide_everywhere(
            session=session, principal=principal, photo=photo, origin=origin_of(request)
        )
    return see_other(f"/staff/photos/{photo_id}?done=hidden")


@router.post("/staff/photos/{photo_id}/show", dependencies=CSRF)
def staff_show(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    photo_id: Id,
    guardian_id: Text = "",
) -> Response:
    """Undo a hiding: from everyone, or (with `guardian_id`) from that family's gallery."""
    photo = lookup.photo_or_404(session=session, principal=principal, photo_id=photo_id)
    if guardian_id:
        family = parse_id(guardian_id)
        if family is None or not visibility.show_to_family(
            session=session,
            principal=principal,
            photo=photo,
            guardian_id=family,
            origin=origin_of(request),
        ):
            raise not_found()
        return see_other(f"/staff/photos/{photo_id}?done=family_shown")
    visibility.show_again(
        session=session, principal=principal, photo=photo, origin=origin_of(request)
    )
    return see_other(f"/staff/photos/{photo_id}?done=shown")
