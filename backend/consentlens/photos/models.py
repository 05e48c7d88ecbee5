"""Events and their photos: what was uploaded, when, and where each file is in its analysis."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from consentlens.core.tables import UTCDateTime, utcnow


class PhotoStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_org_date", "organisation_id", "event_date"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id")
    name: str = Field(max_length=200)
    event_date: date
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EventGroup(SQLModel, table=True):
    __tablename__ = "event_groups"

    event_id: int = Field(foreign_key="events.id", primary_key=True)
    group_id: int = Field(foreign_key="groups.id", primary_key=True, index=True)


class Photo(SQLModel, table=True):
    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("organisation_id", "sha256"),
        CheckConstraint(
            "status IN ('pending', 'processing', 'ready', 'needs_review', 'failed')",
            name="status",
        ),
        Index("ix_photos_event_status", "event_id", "status"),
        # Gallery pages list newest first (keyset on id) within an organisation or an event.
        Index("ix_photos_org_id", "organisation_id", "id"),
        Index("ix_photos_event_id", "event_id", "id"),
        Index("ix_photos_status_claimed", "status", "claimed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id")
    event_id: int = Field(foreign_key="events.id")
    sha256: str = Field(max_length=64)
    # Path of the untouched upload, relative to the media directory; never served.
    original_ref: str = Field(max_length=300)
    original_name: str = Field(default="", max_length=255)
    media_type: str = Field(max_length=40)
    byte_size: int
    # Size after EXIF orientation: the coordinate space of every face box.
    width: int
    height: int
    # The camera's local clock (EXIF DateTimeOriginal), which carries no time zone.
    taken_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=False))
    uploaded_by_id: int | None = Field(default=None, foreign_key="users.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: str = Field(default=PhotoStatus.PENDING.value, max_length=20)
    error: str = Field(default="", max_length=500)
    attempts: int = 0
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    analysed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Staff took the photo out of every use and gallery (staff still see it, and can undo).
    hidden_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_by_id: int | None = Field(default=None, foreign_key="users.id")


class PhotoFamilyHiding(SQLModel, table=True):
    """A photo staff took out of one family's gallery: of the guardian who asked, and of every
    guardian who shares a child with them (the family sees its gallery together)."""

    __tablename__ = "photo_family_hidings"
    __table_args__ = (UniqueConstraint("photo_id", "guardian_id"),)

    id: int | None = Field(default=None, primary_key=True)
    photo_id: int = Field(foreign_key="photos.id", index=True)
    guardian_id: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
