"""The staff gallery: every photo of the club with its verdicts, and guardians' removal requests."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import Response

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff
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
from consentlens.gallery import removals
from consentlens.gallery import scopes as gallery
from consentlens.gallery import tiles as grid
from consentlens.gallery.scopes import StaffFilter
from consentlens.people import children as child_service
from consentlens.people import groups as group_service
from consentlens.photos import service

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]

STAFF_NOTICES = {
    "removed": N_("The request is marked as resolved: the photo was removed."),
    "kept": N_("The request is marked as resolved: the photo was kept."),
    "already": N_("This request was already resolved."),
}
SHOW_LABELS = {
    StaffFilter.ALL.value: N_("All photos"),
    StaffFilter.NEEDS_REVIEW.value: N_("Needs review"),
    StaffFilter.HIDDEN_FROM_WEBSITE.value: N_("Hidden from the website"),
    StaffFilter.FAILED.value: N_("Analysis failed"),
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


@router.get("/staff/removal-requests")
def staff_removals(
    request: Request, session: SessionDep, principal: CurrentStaff, done: str | None = None
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
        raise not_found()
    if removal.resolved_at is not None:
        return see_other("/staff/removal-requests?done=already")
    if resolution not in removals.RESOLUTIONS:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, N_("Choose what happened to the photo."))
    removals.resolve_removal(
        session=session,
        principal=principal,
        removal=removal,
        resolution=resolution,
        origin=origin_of(request),
    )
    return see_other(f"/staff/removal-requests?done={resolution}")
