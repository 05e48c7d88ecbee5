"""The audit trail: who did what, when, from where. Rows are never changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from consentlens.core.tables import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisations.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    action: str = Field(max_length=80, index=True)
    subject_type: str = Field(default="", max_length=40)
    subject_id: str = Field(default="", max_length=40)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=400)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
