"""Publications: what left the club, for which use, and each photo's takedown state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Index,
)
from sqlmodel import Field, SQLModel

from consentlens.core.tables import UTCDateTime, utcnow


class Publication(SQLModel, table=True):
    """One export of photos for one use: what left the club, when, by whom."""

    __tablename__ = "publications"
    __table_args__ = (Index("ix_publications_org_created", "organisation_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id")
    use_code: str = Field(max_length=40)
    size: str = Field(max_length=10)
    title: str = Field(default="", max_length=200)
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    photo_count: int = 0
    left_out_count: int = 0


class PublishedPhoto(SQLModel, table=True):
    """A photo in a publication, with its takedown state."""

    __tablename__ = "published_photos"
    __table_args__ = (
        CheckConstraint("action IN ('show', 'blur')", name="action"),
        Index("ix_published_photos_publication", "publication_id"),
        Index("ix_published_photos_flagged", "takedown_flagged_at", "taken_down_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publications.id")
    # Null once retention deleted the photo; the record of what was published stays.
    photo_id: int | None = Field(default=None, foreign_key="photos.id", index=True)
    file_name: str = Field(max_length=120)
    action: str = Field(max_length=10)
    takedown_flagged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Written in the club's language when flagged: the record. Pages and mails say it in their
    # reader's language from the kind ("withdrawn", "expired", "left") and the child.
    takedown_reason: str = Field(default="", max_length=300)
    takedown_kind: str = Field(default="", max_length=12)
    takedown_child_id: int | None = Field(default=None, foreign_key="children.id")
    takedown_notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    taken_down_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    taken_down_by_id: int | None = Field(default=None, foreign_key="users.id")


class PublishedFace(SQLModel, table=True):
    """A face in a published photo and its consent state at the moment of publication."""

    __tablename__ = "published_faces"
    __table_args__ = (Index("ix_published_faces_child", "child_id", "visible"),)

    id: int | None = Field(default=None, primary_key=True)
    published_photo_id: int = Field(foreign_key="published_photos.id", index=True)
    face_id: int | None = Field(default=None, foreign_key="faces.id")
    child_id: int | None = Field(default=None, foreign_key="children.id")
    state: str = Field(max_length=20)
    visible: bool
    consent_state: str = Field(default="", max_length=20)
