"""Faces found in photos, enrolled reference faces, and each photo's stored verdicts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Index,
    LargeBinary,
)
from sqlmodel import Field, SQLModel

from consentlens.core.tables import UTCDateTime, utcnow


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
