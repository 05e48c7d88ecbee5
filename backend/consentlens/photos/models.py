"""Events, their photos, the faces found in them, enrolled reference faces and stored verdicts."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    LargeBinary,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from consentlens.db.base import UTCDateTime, utcnow


class PhotoStatus(enum.StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"


class FaceState(enum.StrEnum):
    """What is known about a face; only identified and confirmed faces name a child."""

    IDENTIFIED = "identified"  # matched automatically within the strict threshold
    CONFIRMED = "confirmed"  # named by staff in review
    UNCERTAIN = "uncertain"  # a suggestion for staff, never shown
    UNKNOWN = "unknown"  # nobody enrolled matches (or staff said: not a child of ours)
    TOO_SMALL = "too_small"  # too few pixels to recognise
    NOT_A_FACE = "not_a_face"  # staff said the detector was wrong


# Faces that name a child, and faces waiting for staff to say who they are.
NAMED_STATES = (FaceState.IDENTIFIED.value, FaceState.CONFIRMED.value)
REVIEW_STATES = (FaceState.UNCERTAIN.value, FaceState.UNKNOWN.value)


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


class Face(SQLModel, table=True):
    __tablename__ = "faces"
    __table_args__ = (
        CheckConstraint(
            "state IN ('identified', 'confirmed', 'uncertain', 'unknown', 'too_small', "
            "'not_a_face')",
            name="state",
        ),
        CheckConstraint(
            "(state IN ('identified', 'confirmed')) = (child_id IS NOT NULL)", name="named"
        ),
        Index("ix_faces_photo", "photo_id"),
        Index("ix_faces_child", "child_id"),
        Index("ix_faces_suggested", "suggested_child_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    photo_id: int = Field(foreign_key="photos.id")
    # (x, y, w, h) of the detector's box in the oriented original's pixels.
    x: int
    y: int
    w: int
    h: int
    score: float = 0.0
    state: str = Field(max_length=20)
    child_id: int | None = Field(default=None, foreign_key="children.id")
    # The nearest enrolled child when recognition was uncertain: a suggestion for staff.
    suggested_child_id: int | None = Field(default=None, foreign_key="children.id")
    distance: float | None = None
    match_reason: str = Field(default="", max_length=300)
    # float32 × 128; deleted once the face is reviewed or the retention period passes, unless
    # the face names a child.
    embedding: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    reviewed_by_id: int | None = Field(default=None, foreign_key="users.id")
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.w, self.h


class ReferenceFace(SQLModel, table=True):
    """An enrolled embedding of a child; exists only while face-recognition consent is effective."""

    __tablename__ = "reference_faces"
    __table_args__ = (
        CheckConstraint("source IN ('portrait', 'review')", name="source"),
        Index("ix_reference_faces_org", "organisation_id"),
        Index("ix_reference_faces_child", "child_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id")
    child_id: int = Field(foreign_key="children.id")
    embedding: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    source: str = Field(max_length=10)
    # The face confirmed in review this reference was taken from (source = review).
    face_id: int | None = Field(default=None, foreign_key="faces.id")
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StoredVerdict(SQLModel, table=True):
    """The policy's verdict for one photo in one use, as last evaluated."""

    __tablename__ = "photo_verdicts"
    __table_args__ = (
        CheckConstraint("action IN ('show', 'blur', 'hide')", name="action"),
        Index("ix_photo_verdicts_use_action", "use_code", "action"),
    )

    photo_id: int = Field(foreign_key="photos.id", primary_key=True)
    use_code: str = Field(max_length=40, primary_key=True)
    action: str = Field(max_length=10)
    reason: str = Field(max_length=300)
    reason_params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    faces_to_blur: list[int] = Field(default_factory=list, sa_type=JSON)
    # Each face's verdict: [{"face_id", "visible", "reason", "params"}].
    face_reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    evaluated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When a consent this verdict relies on lapses; the verdict must be re-evaluated by then.
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


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
    takedown_reason: str = Field(default="", max_length=300)
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


class RemovalRequest(SQLModel, table=True):
    """A guardian asking staff to take a photo down."""

    __tablename__ = "removal_requests"
    __table_args__ = (Index("ix_removal_requests_org_open", "organisation_id", "resolved_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id")
    photo_id: int | None = Field(default=None, foreign_key="photos.id", index=True)
    requested_by_id: int = Field(foreign_key="users.id")
    message: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by_id: int | None = Field(default=None, foreign_key="users.id")
    resolution: str = Field(default="", max_length=20)
