"""Choosing and changing a password: with the current one, or through a link sent to the account's
own address. Either way every other session and API token of the account ends."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from consentlens.audit import service as audit
from consentlens.audit.models import AuditEvent
from consentlens.auth import service, sessions
from consentlens.auth.models import User
from consentlens.core.config import get_settings
from consentlens.core.i18n import get_translations
from consentlens.core.mail import Mail
from consentlens.core.security import verify_password
from consentlens.core.templating import render_text
from consentlens.outbox import service as outbox

RESET_MINUTES = 60
# Requests for a reset link, per address and hour: enough for a typo, not for mail-bombing.
RESETS_PER_HOUR = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().resolved_secret_key, salt="consentlens.pw-reset")


def _fingerprint(user: User) -> str:
    # A link stops working once it was used (the hash changed) or the address changed.
    material = f"{user.password_hash or ''}|{user.email}".encode()
    return hashlib.sha256(material).hexdigest()[:24]


def reset_token(user: User) -> str:
    return _serializer().dumps({"uid": user.id, "fp": _fingerprint(user)})


def reset_url(user: User) -> str:
    return f"{get_settings().base_url.rstrip('/')}/password/reset/{reset_token(user)}"


def user_for_reset(*, session: Session, token: str) -> User | None:
    """The account a reset link is for, while the link is fresh and unused."""
    try:
        payload: Any = _serializer().loads(token, max_age=RESET_MINUTES * 60)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int):
        return None
    user = session.get(User, payload["uid"])
    if user is None or not user.is_active or payload.get("fp") != _fingerprint(user):
        return None
    return user


def _address_key(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()[:40]


def _recent_requests(session: Session, *, address: str, ip: str, now: datetime) -> int:
    def count(*conditions: ColumnElement[bool]) -> int:
        return session.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "auth.password_reset_requested",
                AuditEvent.at > now - timedelta(hours=1),
                *conditions,
            )
        ).one()

    by_address = count(
        col(AuditEvent.subject_type) == "email",
        col(AuditEvent.subject_id) == _address_key(address),
    )
    # One address (a school network) may ask for several people, not for everyone.
    return max(by_address, count(col(AuditEvent.ip) == ip) // 4)


def request_reset(*, session: Session, email: str, now: datetime, origin: audit.Origin) -> bool:
    """E-mail a reset link to the account with this address, if there is one.

    Returns False when throttled. The answer is the same whether the account exists or not, so
    the form tells nobody which addresses have accounts.
    """
    address = service.normalize_email(email)[:254]
    if _recent_requests(session, address=address, ip=origin.ip, now=now) >= RESETS_PER_HOUR:
        return False
    user = service.get_user_by_email(session=session, email=address)
    audit.record(
        session=session,
        action="auth.password_reset_requested",
        actor_id=user.id if user else None,
        subject_type="email",
        subject_id=_address_key(address),
        details={"email": address, "known": user is not None},
        origin=origin,
    )
    if user is None or not user.is_active:
        return True
    locale = user.locale or get_settings().default_locale
    _ = get_translations(locale).gettext
    mail = Mail(
        to=user.email,
        subject=_("Choose your ConsentLens password"),
        text=render_text(
            "mail/password_reset.txt",
            locale=locale,
            user=user,
            url=reset_url(user),
            minutes=RESET_MINUTES,
        ),
    )
    outbox.queue_mail(session=session, mail=mail, purpose="auth.password_reset")
    return True


def set_new_password(
    *,
    session: Session,
    user: User,
    password: str,
    now: datetime,
    origin: audit.Origin,
    keep_session_token: object = None,
    how: str,
) -> None:
    """Store a new password and end every other session and API token of the account."""
    service.set_password(session=session, user=user, password=password)
    assert user.id is not None
    sessions.end_all_for_user(
        session=session, user_id=user.id, now=now, keep_token=keep_session_token
    )
    audit.record(
        session=session,
        action="auth.password_set",
        actor_id=user.id,
        subject_type="user",
        subject_id=user.id,
        details={"how": how},
        origin=origin,
    )


def current_password_ok(*, user: User, password: str) -> bool:
    return verify_password(password=password, password_hash=user.password_hash)
