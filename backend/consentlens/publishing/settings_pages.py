"""Admin page for photo settings: how long photos are kept, and the watermark on publications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentAdmin, Principal
from consentlens.core.db import SessionDep
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render
from consentlens.organisations import service as organisations
from consentlens.publishing import retention, settings

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]


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
        today=organisations.local_today(organisation=organisation, now=now),
        notice_days=retention.NOTICE_DAYS,
        min_months=settings.MIN_MONTHS,
        max_months=settings.MAX_MONTHS,
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
        months = settings.parse_months(retention_months)
    except settings.SettingsError as error:
        values: dict[str, str | bool] = {
            "retention_months": retention_months,
            "watermark": watermark == "yes",
        }
        return _settings_page(
            request, session, principal, values=values, errors=[error.message], status_code=400
        )
    settings.save_photo_settings(
        session=session,
        organisation=principal.organisation,
        user=principal.user,
        retention_months=months,
        watermark=watermark == "yes",
        origin=origin_of(request),
    )
    return RedirectResponse("/admin/photo-settings?saved=1", status_code=303)
