"""Club-wide consent pages for the secretary: the spreadsheets, and the children behind a count."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentAdmin, CurrentStaff, Principal
from consentlens.consent import exports, staff
from consentlens.core.db import SessionDep
from consentlens.core.pages import not_found
from consentlens.core.tables import utcnow
from consentlens.core.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/admin/exports")
def exports_page(request: Request, principal: CurrentAdmin) -> Response:
    formats = exports.FORMATS
    return render(
        request, "consent/exports.html", organisation=principal.organisation, formats=formats
    )


def _export(
    request: Request, session: Session, principal: Principal, kind: str, file_format: str
) -> Response:
    if file_format not in exports.FORMATS:
        raise not_found()
    made = exports.export(
        session=session,
        organisation=principal.organisation,
        kind=kind,
        file_format=file_format,
        actor=principal.user,
        now=utcnow(),
        origin=origin_of(request),
    )
    return Response(
        content=made.data,
        media_type=made.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{made.name}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/admin/exports/consents")
def export_consents(
    request: Request, session: SessionDep, principal: CurrentAdmin, format: str = "xlsx"
) -> Response:
    return _export(request, session, principal, "consents", format)


@router.get("/admin/exports/members")
def export_members(
    request: Request, session: SessionDep, principal: CurrentAdmin, format: str = "xlsx"
) -> Response:
    return _export(request, session, principal, "members", format)


@router.get("/staff/consents")
def club_consents(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    use: str = "any",
    state: str = "unanswered",
) -> Response:
    view = staff.club_list(
        session=session, organisation=principal.organisation, now=utcnow(), use=use, state=state
    )
    return render(
        request,
        "consent/club.html",
        view=view,
        organisation=principal.organisation,
        state_filters=staff.CLUB_FILTERS,
    )
