"""Who is asking: the signed-in principal and role checks, as typed dependencies.

HTML pages authenticate with the session cookie; the JSON API (/api/...) only with bearer tokens,
so a cookie can never be used to call the API from another site. Both are checked against the
server's own records on every request (`auth/sessions.py`), so an ended session opens nothing.

A session opened by a personal link or printed code is *limited*: it may answer consent for the
link's children in the organisation that made the link (`consent/answerer.py`), and nothing else.
Every other page depends on `get_principal`, which refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth import links, service, sessions
from consentlens.auth.models import AuthSession, ConsentLink, Role, User
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.security import csrf_token
from consentlens.core.tables import utcnow
from consentlens.organisations.models import Organisation

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

# The cookie holds the session's secret; the server holds whose session it is.
SESSION_TOKEN_KEY = "sid"  # noqa: S105 - a key name in the cookie, not a secret


class LoginRequired(Exception):
    """Raised when a request needs a signed-in user; pages redirect, the API answers 401."""


class LinkSessionLimited(Exception):
    """A session opened by a personal link asked for a page beyond answering consent."""


@dataclass(frozen=True)
class Principal:
    """The signed-in user, the organisation they act in, and their roles there."""

    user: User
    organisation: Organisation
    roles: frozenset[Role]
    # Set when the session was opened by a personal link or printed code (limited, see above).
    link: ConsentLink | None = None

    @property
    def by_link(self) -> bool:
        return self.link is not None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & {Role.ADMIN, Role.STAFF})

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def is_guardian(self) -> bool:
        return Role.GUARDIAN in self.roles


@dataclass(frozen=True)
class Viewer:
    """What pages show of the signed-in person: plain values, safe to use after the request's
    database session has ended (error pages render then)."""

    name: str
    organisation_name: str
    locale: str | None
    default_locale: str
    is_staff: bool
    is_admin: bool
    is_guardian: bool
    by_link: bool
    # What waits for staff, for the menu's badges (see `install_menu_counts`).
    counts: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, principal: Principal, counts: Mapping[str, int] | None = None) -> Viewer:
        return cls(
            name=principal.user.full_name,
            organisation_name=principal.organisation.name,
            locale=principal.user.locale,
            default_locale=principal.organisation.default_locale,
            is_staff=principal.is_staff,
            is_admin=principal.is_admin,
            is_guardian=principal.is_guardian,
            by_link=principal.by_link,
            counts=counts or {},
        )


# What the staff menu counts (open removal requests, photos to take down) is known to the rooms
# above; `consentlens.wiring` installs the function that counts them.
class MenuCounts(Protocol):
    def __call__(self, *, session: Session, organisation: Organisation) -> Mapping[str, int]: ...


_menu_counts: list[MenuCounts] = []


def install_menu_counts(counts: MenuCounts) -> None:
    """Set the function that counts what waits for staff (idempotent)."""
    _menu_counts[:] = [counts]


def installed_menu_counts() -> MenuCounts | None:
    return _menu_counts[0] if _menu_counts else None


def _counts_for(request: Request, session: Session, principal: Principal) -> Mapping[str, int]:
    # Pages only, for staff with a password session: the API and families never show the menu.
    if _is_api(request) or principal.by_link or not principal.is_staff or not _menu_counts:
        return {}
    return _menu_counts[0](session=session, organisation=principal.organisation)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def current_auth_session(*, request: Request, session: Session) -> AuthSession | None:
    """The live server-side session behind the request's cookie (looked up once per request)."""
    if hasattr(request.state, "auth_session"):
        cached: AuthSession | None = request.state.auth_session
        return cached
    row = sessions.lookup(
        session=session, token=request.session.get(SESSION_TOKEN_KEY), now=utcnow()
    )
    request.state.auth_session = row
    return row


def sign_out(*, request: Request, session: Session, now: datetime) -> None:
    """End this browser's session on the server and forget the cookie's contents."""
    sessions.end(session=session, token=request.session.get(SESSION_TOKEN_KEY), now=now)
    request.session.clear()


def sign_in(
    *,
    request: Request,
    session: Session,
    now: datetime,
    user_id: int | None,
    link: ConsentLink | None = None,
) -> None:
    """Give this browser a fresh session: nothing from before (a planted cookie, another
    account's or a link's limited session) carries over."""
    sign_out(request=request, session=session, now=now)
    request.session[SESSION_TOKEN_KEY] = sessions.start(
        session=session,
        now=now,
        user_id=user_id,
        link_id=link.id if link else None,
        link_expires_at=link.expires_at if link else None,
        ip=origin_of(request).ip,
    )
    csrf_token(request)


def _link_principal(session: Session, row: AuthSession, user: User) -> Principal | None:
    link = session.get(ConsentLink, row.link_id)
    # Judged again on every request: a role gained since, or a revoked link, ends the session.
    if (
        link is None
        or links.check_link(link=link, now=utcnow()).problem is not None
        or not links.opens_session_for(session=session, link=link, user=user)
    ):
        return None
    organisation = session.get(Organisation, link.organisation_id)
    if organisation is None or organisation.id is None or user.id is None:
        return None
    roles = service.roles_in(session=session, user_id=user.id, organisation_id=organisation.id)
    return Principal(user=user, organisation=organisation, roles=roles, link=link)


def _session_user(request: Request, session: Session) -> tuple[User, AuthSession] | None:
    row = current_auth_session(request=request, session=session)
    if row is None or row.user_id is None:
        return None
    user = session.get(User, row.user_id)
    return (user, row) if user is not None else None


def load_principal(*, request: Request, session: Session, token: str | None) -> Principal | None:
    """The principal behind a request, or None when nobody (still valid) is signed in."""
    row: AuthSession | None = None
    if _is_api(request):
        api_token = (
            sessions.read_api_token(session=session, token=token, now=utcnow()) if token else None
        )
        user = session.get(User, api_token.user_id) if api_token else None
    else:
        found = _session_user(request, session)
        user, row = found if found else (None, None)
    if user is None or not user.is_active or user.id is None:
        return None
    if row is not None and row.link_id is not None:
        return _link_principal(session, row, user)
    organisations = service.organisations_of(session=session, user_id=user.id)
    if not organisations:
        return None
    organisation = organisations[0]
    assert organisation.id is not None
    roles = service.roles_in(session=session, user_id=user.id, organisation_id=organisation.id)
    return Principal(user=user, organisation=organisation, roles=roles)


def get_optional_principal(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal | None:
    """The principal, limited link sessions included (only consent answering uses this)."""
    principal = load_principal(request=request, session=session, token=token)
    request.state.viewer = (
        Viewer.of(principal, _counts_for(request, session, principal)) if principal else None
    )
    return principal


def get_full_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal | None:
    """The principal of a session opened with a password (or an API token), else None."""
    return None if principal is None or principal.by_link else principal


def get_principal(
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    if principal is None:
        raise LoginRequired
    if principal.by_link:
        raise LinkSessionLimited
    return principal


def _forbidden() -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, N_("You do not have access to this page."))


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


# Signed in with a password or token; a limited link session counts as nobody here.
OptionalUser = Annotated[Principal | None, Depends(get_full_principal)]
# Anyone, limited link sessions included: only for consent answering and the front door.
OptionalAnyone = Annotated[Principal | None, Depends(get_optional_principal)]
CurrentUser = Annotated[Principal, Depends(get_principal)]
CurrentStaff = Annotated[Principal, Depends(get_staff)]
CurrentAdmin = Annotated[Principal, Depends(get_admin)]
CurrentGuardian = Annotated[Principal, Depends(get_guardian)]
