"""Bearer tokens for integrations, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from consentlens.audit.service import origin_of
from consentlens.auth import service, sessions
from consentlens.auth.deps import CurrentUser, oauth2_scheme
from consentlens.core.api_errors import AUTHENTICATED, UNREADABLE_BODY, error
from consentlens.core.config import get_settings
from consentlens.core.db import SessionDep
from consentlens.core.tables import utcnow

router = APIRouter(prefix="/api/v1", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class MePublic(BaseModel):
    id: int
    email: str
    full_name: str
    organisation_id: int
    organisation_name: str
    roles: list[str]


@router.post(
    "/auth/token",
    response_model=Token,
    responses={
        **UNREADABLE_BODY,
        **error(status_code=401, description="Wrong credentials"),
        **error(status_code=429, description="Throttled"),
    },
)
def issue_token(
    request: Request,
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token | JSONResponse:
    """Exchange an e-mail address (`username`) and password for a bearer token."""
    result = service.login(
        session=session, email=form.username, password=form.password, origin=origin_of(request)
    )
    # Failures are returned, not raised: raising would roll back the recorded failed attempt,
    # and throttling counts those.
    if result.outcome is service.LoginOutcome.THROTTLED:
        return JSONResponse(
            {"detail": "Too many failed attempts; try again later."},
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(result.retry_after_seconds)},
        )
    if result.user is None or result.user.id is None:
        return JSONResponse(
            {"detail": "Incorrect e-mail address or password."},
            status_code=status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Bearer"},
        )
    secret, _row = sessions.issue_api_token(session=session, user_id=result.user.id, now=utcnow())
    return Token(access_token=secret, expires_in=get_settings().api_token_minutes * 60)


@router.post(
    "/auth/token/revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=AUTHENTICATED,
)
def revoke_token(
    session: SessionDep,
    principal: CurrentUser,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> None:
    """End the bearer token this request carries (it stops working at once)."""
    row = sessions.read_api_token(session=session, token=token or "", now=utcnow())
    if row is not None:
        sessions.revoke_api_token(session=session, row=row, now=utcnow())


@router.get("/me", response_model=MePublic, responses=AUTHENTICATED)
def read_me(principal: CurrentUser) -> MePublic:
    assert principal.user.id is not None and principal.organisation.id is not None
    return MePublic(
        id=principal.user.id,
        email=principal.user.email,
        full_name=principal.user.full_name,
        organisation_id=principal.organisation.id,
        organisation_name=principal.organisation.name,
        roles=sorted(role.value for role in principal.roles),
    )
