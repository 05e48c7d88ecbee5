"""Accounts, memberships, login with throttling."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from consentlens.audit import service as audit
from consentlens.auth.models import LoginAttempt, Membership, Role, User
from consentlens.core.config import LOCALES, get_settings
from consentlens.core.security import MIN_PASSWORD_LENGTH, hash_password, verify_password
from consentlens.core.tables import utcnow
from consentlens.organisations.models import Organisation


class AccountError(ValueError):
    """Bad input for an account operation; the message is shown to the user."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def validate_email(email: str) -> str:
    normalized = normalize_email(email)
    local, _, domain = normalized.partition("@")
    if not local or "." not in domain or " " in normalized or len(normalized) > 254:
        raise AccountError(f"'{email}' is not a valid e-mail address.")
    return normalized


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalize_email(email))).first()


def create_user(
    *,
    session: Session,
    email: str,
    full_name: str,
    password: str | None = None,
    locale: str | None = None,
) -> User:
    address = validate_email(email)
    if get_user_by_email(session=session, email=address) is not None:
        raise AccountError(f"An account for {address} already exists.")
    if password is not None:
        validate_password(password)
    user = User(
        email=address,
        full_name=full_name.strip() or address,
        password_hash=hash_password(password) if password is not None else None,
        locale=locale,
    )
    session.add(user)
    session.flush()
    return user


def set_password(*, session: Session, user: User, password: str) -> None:
    validate_password(password)
    user.password_hash = hash_password(password)
    session.add(user)
    session.flush()


def adopt_locale(*, session: Session, user: User, locale: str) -> None:
    """Give an account with no language yet the one its person uses (e-mails follow it)."""
    if not user.locale and locale in LOCALES:
        user.locale = locale
        session.add(user)


def add_membership(
    *, session: Session, user: User, organisation: Organisation, role: Role
) -> Membership:
    """Give a user a role in an organisation (idempotent)."""
    existing = session.exec(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.organisation_id == organisation.id,
            Membership.role == role.value,
        )
    ).first()
    if existing is not None:
        return existing
    assert user.id is not None and organisation.id is not None
    membership = Membership(user_id=user.id, organisation_id=organisation.id, role=role.value)
    session.add(membership)
    session.flush()
    return membership


def roles_in(*, session: Session, user_id: int, organisation_id: int) -> frozenset[Role]:
    rows = session.exec(
        select(Membership.role).where(
            Membership.user_id == user_id, Membership.organisation_id == organisation_id
        )
    ).all()
    return frozenset(Role(role) for role in rows)


def has_staff_role(*, session: Session, user_id: int | None) -> bool:
    """Whether the account is staff or admin in any organisation."""
    if user_id is None:
        return False
    return (
        session.exec(
            select(Membership.id).where(
                Membership.user_id == user_id,
                col(Membership.role).in_([Role.ADMIN.value, Role.STAFF.value]),
            )
        ).first()
        is not None
    )


def organisations_of(*, session: Session, user_id: int) -> list[Organisation]:
    """The organisations a user belongs to, oldest membership first."""
    return list(
        session.exec(
            select(Organisation)
            .join(Membership, col(Membership.organisation_id) == Organisation.id)
            .where(Membership.user_id == user_id)
            .order_by(col(Membership.id))
        ).unique()
    )


class LoginOutcome(enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    retry_after_seconds: int = 0


def _aware(moment: datetime, now: datetime) -> datetime:
    # SQLite hands aggregates back without a time zone; every stored moment is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def _throttle_wait(*, session: Session, email: str, ip: str, now: datetime) -> int:
    """Seconds until a login may be tried again; 0 when it may be tried now.

    Failures are counted per account *and* address, so that guesses from one address never lock
    the owner out from another (the lockout would be a denial of service). An address is also
    limited over all accounts (spraying), and an account over all addresses with a much higher
    ceiling (guessing spread over many addresses). A success clears its own pair's count.
    """
    settings = get_settings()
    window = timedelta(minutes=settings.login_window_minutes)
    since = now - window
    failed = col(LoginAttempt.succeeded).is_(False)
    pair = (col(LoginAttempt.email) == email) & (col(LoginAttempt.ip) == ip)
    last_success = session.exec(
        select(func.max(LoginAttempt.at)).where(
            pair, col(LoginAttempt.succeeded).is_(True), LoginAttempt.at > since
        )
    ).one()
    pair_since = max(since, _aware(last_success, now)) if last_success is not None else since
    limits = [
        (pair, pair_since, settings.login_max_failures),
        (col(LoginAttempt.email) == email, since, settings.login_max_failures_per_account),
    ]
    if ip:
        limits.append((col(LoginAttempt.ip) == ip, since, settings.login_max_failures_per_ip))
    wait = 0
    for condition, after, limit in limits:
        count, oldest = session.exec(
            select(func.count(), func.min(LoginAttempt.at)).where(
                condition, failed, LoginAttempt.at > after
            )
        ).one()
        if count >= limit and oldest is not None:
            wait = max(wait, int((_aware(oldest, now) + window - now).total_seconds()) + 1)
    return wait


def login(
    *,
    session: Session,
    email: str,
    password: str,
    origin: audit.Origin,
    now: datetime | None = None,
) -> LoginResult:
    """Check credentials, refusing to even try once this account from this address (or the
    address, or the account from everywhere) has failed too often."""
    now = now or utcnow()
    address = normalize_email(email)[:254]
    ip = origin.ip
    wait = _throttle_wait(session=session, email=address, ip=ip, now=now)
    if wait > 0:
        audit.record(
            session=session,
            action="auth.login_throttled",
            details={"email": address},
            origin=origin,
        )
        return LoginResult(LoginOutcome.THROTTLED, retry_after_seconds=wait)

    user = get_user_by_email(session=session, email=address)
    valid = verify_password(password=password, password_hash=user.password_hash if user else None)
    ok = valid and user is not None and user.is_active
    session.add(LoginAttempt(email=address, ip=ip, succeeded=ok, at=now))
    if not ok or user is None:
        audit.record(
            session=session,
            action="auth.login_failed",
            actor_id=user.id if user else None,
            details={"email": address},
            origin=origin,
        )
        return LoginResult(LoginOutcome.INVALID)
    user.last_login_at = now
    session.add(user)
    audit.record(session=session, action="auth.login", actor_id=user.id, origin=origin)
    return LoginResult(LoginOutcome.OK, user=user)
