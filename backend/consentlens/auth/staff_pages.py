"""Admin pages for the club's staff accounts, and the page where an invited account holder
accepts (signed in as themselves: the invitation's link opens no session)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth import staff_accounts as accounts
from consentlens.auth.deps import CurrentAdmin, OptionalUser, Principal
from consentlens.auth.models import Role
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.ids import Id
from consentlens.core.pages import found_or_404, see_other
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import prefer_locale, render

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]
Text = Annotated[str, Form()]

NOTICES = {
    "created": N_("The account is made. A link to choose a password went to that address."),
    "created_unsent": N_(
        "The account is made, but the e-mail could not be sent now. They can choose a password "
        "with “No password yet, or forgot it?” on the sign-in page."
    ),
    "asked": N_(
        "This address already has an account: it belongs to its holder, so we changed nothing "
        "about it. We asked them by e-mail to accept; they join once they do."
    ),
    "already": N_("This person is already on the staff."),
    "role": N_("The role is changed."),
    "removed": N_("The account no longer has access to this organisation."),
}


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    notice: str | None = None,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "auth/staff.html",
        status_code=400 if errors else 200,
        organisation=principal.organisation,
        members=accounts.list_staff(session=session, organisation=principal.organisation),
        me=principal.user.id,
        notice=NOTICES.get(notice or ""),
        errors=errors or [],
        form=form or {"email": "", "full_name": "", "role": "staff"},
    )


@router.get("/admin/staff")
def staff_page(
    request: Request, session: SessionDep, principal: CurrentAdmin, done: str | None = None
) -> Response:
    return _page(request, session, principal, notice=done)


@router.post("/admin/staff", dependencies=CSRF)
def staff_invite(
    request: Request,
    session: SessionDep,
    principal: CurrentAdmin,
    email: Text = "",
    full_name: Text = "",
    role: Text = "staff",
) -> Response:
    form = {"email": email, "full_name": full_name, "role": role}
    try:
        outcome = accounts.invite(
            session=session,
            organisation=principal.organisation,
            email=email,
            full_name=full_name,
            role=accounts.parse_role(role),
            actor=principal.user,
            now=utcnow(),
            origin=origin_of(request),
        )
    except accounts.StaffError as error:
        return _page(request, session, principal, errors=[error.message], form=form)
    return see_other(f"/admin/staff?done={outcome.value}")


def _member(session: Session, principal: Principal, user_id: int) -> accounts.StaffMember:
    return found_or_404(
        accounts.get_member(session=session, organisation=principal.organisation, user_id=user_id)
    )


@router.post("/admin/staff/{user_id}/role", dependencies=CSRF)
def staff_role(
    request: Request, session: SessionDep, principal: CurrentAdmin, user_id: Id, role: Text = ""
) -> Response:
    member = _member(session, principal, user_id)
    try:
        accounts.change_role(
            session=session,
            organisation=principal.organisation,
            member=member,
            role=accounts.parse_role(role),
            actor=principal.user,
            origin=origin_of(request),
        )
    except accounts.StaffError as error:
        return _page(request, session, principal, errors=[error.message])
    return see_other("/admin/staff?done=role")


@router.post("/admin/staff/{user_id}/remove", dependencies=CSRF)
def staff_remove(
    request: Request, session: SessionDep, principal: CurrentAdmin, user_id: Id
) -> Response:
    member = _member(session, principal, user_id)
    try:
        accounts.remove(
            session=session,
            organisation=principal.organisation,
            member=member,
            actor=principal.user,
            origin=origin_of(request),
        )
    except accounts.StaffError as error:
        return _page(request, session, principal, errors=[error.message])
    return see_other("/admin/staff?done=removed")


def _invitation_page(
    request: Request,
    principal: Principal | None,
    invitation: accounts.Invitation | None,
    token: str,
    *,
    accepted: bool = False,
) -> Response:
    if invitation is None:
        return render(
            request,
            "consent/link_problem.html",
            status_code=410,
            message=N_("This invitation has expired or is no longer valid."),
        )
    prefer_locale(request=request, locale=invitation.user.locale)
    return render(
        request,
        "auth/staff_invitation.html",
        invitation=invitation,
        organisation=invitation.organisation,
        token=token,
        signed_in_as_invited=principal is not None and principal.user.id == invitation.user.id,
        login_url=f"/login?next={quote('/staff-invitations/' + token, safe='')}",
        accepted=accepted,
        is_admin=invitation.role is Role.ADMIN,
    )


@router.get("/staff-invitations/{token}")
def invitation_page(
    request: Request, session: SessionDep, principal: OptionalUser, token: str
) -> Response:
    invitation = accounts.read_invitation(session=session, token=token)
    return _invitation_page(request, principal, invitation, token)


@router.post("/staff-invitations/{token}", dependencies=CSRF)
def invitation_accept(
    request: Request, session: SessionDep, principal: OptionalUser, token: str
) -> Response:
    invitation = accounts.read_invitation(session=session, token=token)
    if invitation is None or principal is None or principal.user.id != invitation.user.id:
        # Only the invited account's holder, signed in with their own password, may accept.
        return _invitation_page(request, principal, invitation, token)
    accounts.accept(
        session=session, invitation=invitation, user=principal.user, origin=origin_of(request)
    )
    return _invitation_page(request, principal, invitation, token, accepted=True)
