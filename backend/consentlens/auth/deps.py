"""Who is asking: the signed-in principal and role checks, as typed dependencies.

HTML pages authenticate with the session cookie; the JSON API (/api/...) only with bearer tokens,
so a cookie can never be used to call the API from another site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from consentlens.auth import service
from consentlens.auth.models import Role, User
from consentlens.core.db import SessionDep
from consentlens.core.security import read_api_token
from consentlens.people.models import Organisation

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

SESSION_USER_KEY = "uid"
SESSION_ORG_KEY = "org"


class LoginRequired(Exception):
    """Raised when a request needs a signed-in user; pages redirect, the API answers 401."""


@dataclass(frozen=True)
class Principal:
    """The signed-in user, the organisation they act in, and their roles there."""

    user: User
    organisation: Organisation
    roles: frozenset[Role]

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & {Role.ADMIN, Role.STAFF})

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def is_guardian(self) -> bool:
        return Role.GUARDIAN in self.roles


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _user_id(request: Request, token: str | None) -> int | None:
    if _is_api(request):
        return read_api_token(token) if token else None
    uid = request.session.get(SESSION_USER_KEY)
    return uid if isinstance(uid, int) else None


def load_principal(*, request: Request, session: Session, token: str | None) -> Principal | None:
    """The principal behind a request, or None when nobody (still valid) is signed in."""
    uid = _user_id(request, token)
    user = session.get(User, uid) if uid is not None else None
    if user is None or not user.is_active or user.id is None:
        return None
    organisations = service.organisations_of(session=session, user_id=user.id)
    if not organisations:
        return None
    chosen = request.session.get(SESSION_ORG_KEY) if not _is_api(request) else None
    organisation = next((o for o in organisations if o.id == chosen), organisations[0])
    assert organisation.id is not None
    roles = service.roles_in(session=session, user_id=user.id, organisation_id=organisation.id)
    return Principal(user=user, organisation=organisation, roles=roles)


def get_optional_principal(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal | None:
    principal = load_principal(request=request, session=session, token=token)
    request.state.principal = principal
    return principal


def get_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    if principal is None:
        raise LoginRequired
    return principal


def _forbidden() -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, "You do not have access to this page.")


def get_staff(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_staff:
        raise _forbidden()
    return principal


def get_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_admin:
        raise _forbidden()
    return principal


def get_guardian(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_guardian:
        raise _forbidden()
    return principal


OptionalUser = Annotated[Principal | None, Depends(get_optional_principal)]
CurrentUser = Annotated[Principal, Depends(get_principal)]
CurrentStaff = Annotated[Principal, Depends(get_staff)]
CurrentAdmin = Annotated[Principal, Depends(get_admin)]
CurrentGuardian = Annotated[Principal, Depends(get_guardian)]
