"""Groups (teams/classes), children and their guardians, in an organisation (`organisations/`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from consentlens.core.tables import UTCDateTime, utcnow


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
    # A protected child must not be locatable: every photo that shows or may show them is hidden
    # from every use but the staff view (consent.protection). The reason is optional, for staff.
    protected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    protected_reason: str = Field(default="", max_length=300)

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
