"""Organisations, groups (teams/classes), children and their guardians."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

from consentlens.core.tables import UTCDateTime, utcnow


class Organisation(SQLModel, table=True):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(
            "co_consent_age >= 0 AND co_consent_age <= sole_consent_age AND sole_consent_age <= 18",
            name="consent_ages",
        ),
        CheckConstraint("retention_months >= 1", name="retention_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    slug: str = Field(max_length=80, unique=True)
    timezone: str = Field(default="Europe/Brussels", max_length=64)
    default_locale: str = Field(default="nl", max_length=5)
    season_end: date
    co_consent_age: int = 12
    sole_consent_age: int = 16
    require_all_guardians: bool = True
    retention_months: int = 24
    privacy_controller: str = Field(default="", max_length=200)
    privacy_contact_email: str = Field(default="", max_length=254)
    # Printed forms: the uploaded logo (under the media directory) and the paper size.
    logo_ref: str | None = Field(default=None, max_length=300)
    form_page_size: str = Field(default="A4", max_length=10)
    # When the current season began (set by "start a new season"); None before the first renewal.
    season_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Served photos carry the club's name in a corner (deters re-sharing; off by default).
    watermark_photos: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Group(SQLModel, table=True):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    name: str = Field(max_length=120)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Child(SQLModel, table=True):
    __tablename__ = "children"
    __table_args__ = (UniqueConstraint("organisation_id", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    first_name: str = Field(max_length=120)
    last_name: str = Field(max_length=120)
    birth_date: date
    external_id: str | None = Field(default=None, max_length=80)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ChildGroup(SQLModel, table=True):
    __tablename__ = "child_groups"

    child_id: int = Field(foreign_key="children.id", primary_key=True)
    group_id: int = Field(foreign_key="groups.id", primary_key=True, index=True)


class Guardianship(SQLModel, table=True):
    __tablename__ = "guardianships"
    __table_args__ = (UniqueConstraint("child_id", "guardian_id"),)

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="children.id", index=True)
    guardian_id: int = Field(foreign_key="users.id", index=True)
    relation: str = Field(default="parent", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PendingGuardianship(SQLModel, table=True):
    """An organisation's request to link an account that is not (yet) one of its own to a child.

    An account belongs to a person: when staff name an e-mail address whose account already
    exists and has no role in this organisation, nothing is linked until the account holder
    confirms through a link sent to that address. Until then no query that grants anything
    (consent authority, links, codes, gallery) sees it, because it is not a `Guardianship`.
    """

    __tablename__ = "pending_guardianships"
    __table_args__ = (UniqueConstraint("child_id", "guardian_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    child_id: int = Field(foreign_key="children.id", index=True)
    guardian_id: int = Field(foreign_key="users.id", index=True)
    relation: str = Field(default="parent", max_length=40)
    requested_by_id: int | None = Field(default=None, foreign_key="users.id")
    # Random per mailing, signed into the link with the address it went to: an old link never
    # opens a later request that happens to reuse the row's id, nor one whose address changed.
    nonce: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    mailed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Kept when the holder says no, so that asking again does not mail them again.
    declined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
