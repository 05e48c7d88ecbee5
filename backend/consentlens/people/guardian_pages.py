"""Staff pages to manage guardians: list, edit their details, remove them from the organisation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.auth.models import User
from consentlens.core.config import LOCALES
from consentlens.core.db import SessionDep
from consentlens.core.i18n import LOCALE_NAMES, N_
from consentlens.core.ids import Id
from consentlens.core.pages import found_or_404, see_other
from consentlens.core.templating import render
from consentlens.people import guardians, guardianships
from consentlens.people.errors import PeopleError
from consentlens.people.page_helpers import CSRF, Text, form_errors

router = APIRouter(tags=["pages"], include_in_schema=False)

# Notices after a redirect: only these fixed messages can be shown, whatever the URL says.
NOTICES = {
    "saved": N_("Your changes were saved."),
    "guardian_archived": N_("The guardian was removed from all children of this organisation."),
}


@router.get("/staff/guardians")
def guardians_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    q: str = "",
    done: str | None = None,
) -> Response:
    organisation = principal.organisation
    found = guardians.list_guardians(session=session, organisation=organisation, search=q[:100])
    return render(
        request,
        "people/guardians.html",
        guardians=found,
        q=q[:100],
        children_of=guardians.children_by_guardian(
            session=session,
            organisation=organisation,
            guardian_ids=[g.id for g in found if g.id is not None],
        ),
        notice=NOTICES.get(done or ""),
    )


def _guardian(session: SessionDep, principal: Principal, guardian_id: int) -> User:
    return found_or_404(
        guardians.get_guardian(
            session=session, organisation=principal.organisation, guardian_id=guardian_id
        )
    )


def _guardian_edit_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    guardian: User,
    *,
    form: dict[str, str] | None = None,
    error: PeopleError | None = None,
    done: str | None = None,
) -> Response:
    organisation = principal.organisation
    assert guardian.id is not None
    return render(
        request,
        "people/guardian_edit.html",
        guardian=guardian,
        form=form
        or {
            "full_name": guardian.full_name,
            "email": guardian.email,
            "phone": guardian.phone or "",
            "locale": guardian.locale or "",
        },
        children=guardians.children_by_guardian(
            session=session, organisation=organisation, guardian_ids=[guardian.id]
        )[guardian.id],
        contact_locked=guardians.contact_is_shared(
            session=session, organisation=organisation, user=guardian
        ),
        languages=[(code, LOCALE_NAMES[code]) for code in LOCALES],
        notice=NOTICES.get(done or ""),
        **form_errors(error),
    )


@router.get("/staff/guardians/{guardian_id}/edit")
def guardian_edit_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    guardian_id: Id,
    done: str | None = None,
) -> Response:
    guardian = _guardian(session, principal, guardian_id)
    return _guardian_edit_page(request, session, principal, guardian, done=done)


@router.post("/staff/guardians/{guardian_id}/edit", dependencies=CSRF)
def guardian_edit(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    guardian_id: Id,
    full_name: Text = "",
    email: Text = "",
    phone: Text = "",
    locale: Text = "",
) -> Response:
    guardian = _guardian(session, principal, guardian_id)
    form = {"full_name": full_name, "email": email, "phone": phone, "locale": locale}
    try:
        guardians.update_guardian(
            session=session,
            organisation=principal.organisation,
            guardian=guardian,
            full_name=full_name,
            email=email,
            phone=phone,
            locale=locale or None,
            actor=principal.user,
            origin=origin_of(request),
        )
    except PeopleError as error:
        return _guardian_edit_page(request, session, principal, guardian, form=form, error=error)
    return see_other(f"/staff/guardians/{guardian_id}/edit?done=saved")


@router.post("/staff/guardians/{guardian_id}/archive", dependencies=CSRF)
def guardian_archive(
    request: Request, session: SessionDep, principal: CurrentStaff, guardian_id: Id
) -> Response:
    guardian = _guardian(session, principal, guardian_id)
    guardianships.archive_guardian(
        session=session,
        organisation=principal.organisation,
        guardian=guardian,
        actor=principal.user,
        origin=origin_of(request),
    )
    return see_other("/staff/guardians?done=guardian_archived")
