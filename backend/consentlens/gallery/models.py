"""Removal requests: a guardian asking staff to take a photo down."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Index,
)
from sqlmodel import Field, SQLModel

from consentlens.core.tables import UTCDateTime, utcnow


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
    # Why staff declined, in their words: the guardian reads it (page and e-mail).
    reason: str = Field(default="", max_length=1000)
    # Which photo it was, for the guardian's list once the photo itself is deleted.
    event_name: str = Field(default="", max_length=200)
