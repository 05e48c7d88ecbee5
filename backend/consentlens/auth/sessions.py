"""Sessions and API tokens that the server can end.

A browser session and an API token are random secrets handed to the client; the database keeps
only their SHA-256, with an expiry and a revocation time. Whatever a cookie or token still says,
a session the server has ended opens nothing: sign-out, a password change, the revocation of the
link that opened it, or an account being deactivated end it on the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select, update

from consentlens.auth.models import ApiToken, AuthSession
from consentlens.core.config import get_settings

# API tokens carry a prefix so that a leaked one is easy to recognise (and to scan for).
API_TOKEN_PREFIX = "cl_"  # noqa: S105 - a visible prefix, not a secret


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def start(
    *,
    session: Session,
    now: datetime,
    user_id: int | None,
    link_id: int | None = None,
    link_expires_at: datetime | None = None,
    ip: str = "",
) -> str:
    """A new session; returns the secret for the cookie. A link's session ends with the link."""
    if user_id is None and link_id is None:
        raise ValueError("a session is for a user, a link, or both")
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=get_settings().session_days)
    if link_expires_at is not None:
        expires_at = min(expires_at, link_expires_at)
    session.add(
        AuthSession(
            token_hash=_digest(token),
            user_id=user_id,
            link_id=link_id,
            created_at=now,
            expires_at=expires_at,
            ip=ip[:64],
        )
    )
    session.flush()
    return token


def lookup(*, session: Session, token: object, now: datetime) -> AuthSession | None:
    """The live session behind a cookie's secret, else None."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    row = session.exec(select(AuthSession).where(AuthSession.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row


def end(*, session: Session, token: object, now: datetime) -> None:
    """End the session behind a cookie's secret (sign-out)."""
    row = lookup(session=session, token=token, now=now)
    if row is not None:
        row.revoked_at = now
        session.add(row)
        session.flush()


def end_all_for_user(
    *, session: Session, user_id: int, now: datetime, keep_token: object = None
) -> None:
    """End every session and API token of an account, except the session that asked."""
    keep = _digest(keep_token) if isinstance(keep_token, str) else ""
    session.exec(
        update(AuthSession)
        .where(
            col(AuthSession.user_id) == user_id,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.token_hash) != keep,
        )
        .values(revoked_at=now)
    )
    session.exec(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    session.flush()


def end_all_for_links(*, session: Session, link_ids: list[int], now: datetime) -> None:
    """End the sessions opened by these links (they were revoked)."""
    if not link_ids:
        return
    session.exec(
        update(AuthSession)
        .where(col(AuthSession.link_id).in_(link_ids), col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    session.flush()


def issue_api_token(*, session: Session, user_id: int, now: datetime) -> tuple[str, ApiToken]:
    """A new bearer token for the API; returns the secret (shown once) and its row."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=_digest(token),
        user_id=user_id,
        created_at=now,
        expires_at=now + timedelta(minutes=get_settings().api_token_minutes),
    )
    session.add(row)
    session.flush()
    return token, row


def read_api_token(*, session: Session, token: str, now: datetime) -> ApiToken | None:
    """The live token row behind a bearer secret, else None."""
    if not token.startswith(API_TOKEN_PREFIX) or len(token) > 100:
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row


def revoke_api_token(*, session: Session, row: ApiToken, now: datetime) -> None:
    row.revoked_at = now
    session.add(row)
    session.flush()


# Ended sessions and tokens are kept a while: "signed out everywhere at 14:02" stays explainable.
KEEP_ENDED_DAYS = 30


def delete_ended(*, session: Session, now: datetime) -> None:
    """Forget sessions and tokens that ended (expired or revoked) a while ago."""
    cutoff = now - timedelta(days=KEEP_ENDED_DAYS)
    for model in (AuthSession, ApiToken):
        session.exec(
            delete(model).where(
                (col(model.expires_at) < cutoff)
                | (col(model.revoked_at).is_not(None) & (col(model.revoked_at) < cutoff))
            )
        )
    session.flush()
