"""Admin page for photo settings: how long photos are kept, and the watermark on publications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentAdmin, Principal
from consentlens.auth.models import User
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.publishing import retention

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]

MIN_MONTHS, MAX_MONTHS = 1, 120


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
        today=organisations.local_today(organisation=organisation, now=now),
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
