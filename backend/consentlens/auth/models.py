"""Accounts, roles per organisation, and login attempts (for throttling)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from consentlens.core.tables import UTCDateTime, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    GUARDIAN = "guardian"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    # Stored lower-cased: one person, one account, however they type their address.
    email: str = Field(max_length=254, unique=True)
    full_name: str = Field(max_length=200)
    # Guardians may never set a password: they come in through signed links.
    password_hash: str | None = Field(default=None, max_length=255)
    locale: str | None = Field(default=None, max_length=5)
    phone: str | None = Field(default=None, max_length=40)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    # A coach can also be the parent of a player: one row per role.
    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id", "role"),
        CheckConstraint("role IN ('admin', 'staff', 'guardian')", name="role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    role: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempts"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    ip: str = Field(default="", max_length=64, index=True)
    succeeded: bool
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class LinkKind(enum.StrEnum):
    GUARDIAN = "guardian"
    CHILD = "child"


class ConsentLink(SQLModel, table=True):
    """A personal link to the consent page: for one guardian, or for one child old enough to answer.

    The URL carries a signature of the id (nothing guessable); expiry and revocation live here.
    """

    __tablename__ = "consent_links"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'guardian' AND guardian_id IS NOT NULL AND child_id IS NULL) "
            "OR (kind = 'child' AND child_id IS NOT NULL AND guardian_id IS NULL)",
            name="kind_target",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    kind: str = Field(max_length=10)
    guardian_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    child_id: int | None = Field(default=None, foreign_key="children.id", index=True)
    # Typed by hand from a printed form: short, unambiguous, unique.
    short_code: str = Field(max_length=12, unique=True)
    purpose: str = Field(default="invitation", max_length=20)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    use_count: int = 0


class AuthSession(SQLModel, table=True):
    """A signed-in browser, known to the server so that it can be ended (sign-out, password
    change, link revocation), whatever the cookie still says.

    The cookie carries a random token; only its SHA-256 is stored, so a copy of the database
    opens no session. A session opened by a personal link (`link_id`) is limited to answering
    consent for that link's children, and ends with the link.
    """

    __tablename__ = "auth_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    # None for a child's own link: the child has no account.
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    link_id: int | None = Field(default=None, foreign_key="consent_links.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ip: str = Field(default="", max_length=64)


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API: expires, and can be revoked; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
