"""Downloading printable consent forms (staff and guardians) and the form settings page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentAdmin, CurrentGuardian, CurrentStaff, Principal
from consentlens.auth.models import User
from consentlens.core.config import Locale
from consentlens.core.db import SessionDep
from consentlens.core.downloads import ascii_filename
from consentlens.core.i18n import N_
from consentlens.core.ids import Id
from consentlens.core.pages import found_or_404, see_other
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render, request_locale
from consentlens.forms import logo, service, settings
from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people import guardians as guardian_service
from consentlens.people.groups import get_group
from consentlens.people.models import Child

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]


# Letters that NFKD does not take apart into a base letter and an accent.
def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content=content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def _child_form(
    request: Request,
    session: Session,
    principal: Principal,
    child: Child,
    *,
    locale: str | None,
    guardian: User | None = None,
) -> Response:
    """A child's form as a download; with `guardian`, only that guardian's link is on it."""
    printed = service.child_form(
        session=session,
        organisation=principal.organisation,
        child=child,
        actor=principal.user,
        now=utcnow(),
        locale=locale,
        guardian=guardian,
        origin=origin_of(request),
    )
    return _pdf(printed.pdf, ascii_filename("consent-form", child.full_name))


@router.get("/staff/children/{child_id}/form.pdf")
def staff_child_form(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    child_id: Id,
    locale: Locale | None = None,
) -> Response:
    child = found_or_404(
        child_service.get_child(
            session=session, organisation=principal.organisation, child_id=child_id
        )
    )
    return _child_form(request, session, principal, child, locale=locale)


@router.get("/staff/groups/{group_id}/forms.pdf")
def staff_group_forms(
    request: Request, session: SessionDep, principal: CurrentStaff, group_id: Id
) -> Response:
    organisation = principal.organisation
    group = found_or_404(get_group(session=session, organisation=organisation, group_id=group_id))
    try:
        printed = service.group_forms(
            session=session,
            organisation=organisation,
            group=group,
            actor=principal.user,
            now=utcnow(),
            origin=origin_of(request),
        )
    except service.NothingToPrint:
        raise HTTPException(
            400, N_("This group has no children yet: there is nothing to print.")
        ) from None
    return _pdf(printed.pdf, ascii_filename("consent-forms", group.name))


@router.get("/staff/forms/blank.pdf")
def staff_blank_form(
    request: Request, session: SessionDep, principal: CurrentStaff, locale: Locale | None = None
) -> Response:
    printed = service.blank_form(
        session=session,
        organisation=principal.organisation,
        actor=principal.user,
        now=utcnow(),
        locale=locale,
        origin=origin_of(request),
    )
    language = locale or service.family_locale(organisation=principal.organisation, guardians=[])
    return _pdf(printed.pdf, ascii_filename("consent-form", "blank", language))


@router.get("/consent/children/{child_id}/form.pdf")
def guardian_child_form(
    request: Request, session: SessionDep, principal: CurrentGuardian, child_id: Id
) -> Response:
    children = guardian_service.children_of_guardian(
        session=session, organisation=principal.organisation, guardian=principal.user
    )
    child = found_or_404(next((c for c in children if c.id == child_id), None))
    # The language the guardian reads the site in; the link printed is their own only.
    return _child_form(
        request, session, principal, child, locale=request_locale(request), guardian=principal.user
    )


def _settings_page(
    request: Request,
    principal: Principal,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
    saved: bool = False,
) -> Response:
    organisation: Organisation = principal.organisation
    return render(
        request,
        "forms/settings.html",
        status_code=status_code,
        errors=errors or [],
        organisation=organisation,
        logo_preview=logo.data_uri(organisation.logo_ref),
        values=values
        or {
            "page_size": organisation.form_page_size,
            "privacy_controller": organisation.privacy_controller,
            "privacy_contact_email": organisation.privacy_contact_email,
        },
        page_sizes=[("A4", N_("A4 (Europe)")), ("letter", N_("US Letter"))],
        saved=saved,
    )


@router.get("/staff/settings/forms")
def settings_page(request: Request, principal: CurrentAdmin, saved: int = 0) -> Response:
    return _settings_page(request, principal, saved=bool(saved))


@router.post("/staff/settings/forms", dependencies=CSRF)
def settings_submit(
    request: Request,
    session: SessionDep,
    principal: CurrentAdmin,
    logo_file: Annotated[UploadFile | None, File(alias="logo")] = None,
    remove_logo: Annotated[str, Form()] = "",
    page_size: Annotated[str, Form()] = "A4",
    privacy_controller: Annotated[str, Form()] = "",
    privacy_contact_email: Annotated[str, Form()] = "",
) -> Response:
    values = {
        "page_size": page_size,
        "privacy_controller": privacy_controller,
        "privacy_contact_email": privacy_contact_email,
    }
    # A plain function runs in the thread pool, so Pillow's work does not hold up other requests.
    # One byte past the limit is enough to tell that a file is too large.
    data = logo_file.file.read(logo.MAX_BYTES + 1) if logo_file is not None else b""
    try:
        settings.save_settings(
            session=session,
            organisation=principal.organisation,
            actor=principal.user,
            page_size=page_size,
            privacy_controller=privacy_controller,
            privacy_contact_email=privacy_contact_email,
            logo_data=data or None,
            remove_logo=remove_logo == "yes",
            origin=origin_of(request),
        )
    except settings.SettingsError as error:
        return _settings_page(
            request, principal, status_code=400, errors=error.messages, values=values
        )
    return see_other("/staff/settings/forms?saved=1")
