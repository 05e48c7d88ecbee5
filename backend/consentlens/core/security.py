"""Password hashing and CSRF tokens."""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request, status
from passlib.context import CryptContext

from consentlens.core.i18n import N_

pwd_context = CryptContext(schemes=["argon2"], deprecated="auto")

# A hash of a random password: checking against it when the account does not exist makes a login
# for an unknown e-mail take as long as one with a wrong password.
_DUMMY_HASH = pwd_context.hash(secrets.token_urlsafe(16))

CSRF_SESSION_KEY = "csrf"
CSRF_FIELD = "csrf_token"
MIN_PASSWORD_LENGTH = 10
CSRF_ERROR = N_(
    "The form has expired or did not come from this site. Reload the page and try again."
)


def hash_password(password: str) -> str:
    return pwd_context.hash(password)


def verify_password(*, password: str, password_hash: str | None) -> bool:
    """Check a password in constant time whether or not there is a hash to check against."""
    if not password_hash:
        pwd_context.verify(password, _DUMMY_HASH)
        return False
    return pwd_context.verify(password, password_hash)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Dependency for every HTML form POST: the form's token must match the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=CSRF_ERROR,
        )
