"""The register of printed consent forms: each printed form has an id that brings it back."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from consentlens.core.tables import UTCDateTime, utcnow


class PrintedForm(SQLModel, table=True):
    """One printed form (for a child, or blank for walk-ins), found again by its form code."""

    __tablename__ = "printed_forms"

    id: int | None = Field(default=None, primary_key=True)
    # Printed as text and as a barcode; typed or scanned when the signed form comes back.
    form_code: str = Field(max_length=16, unique=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    child_id: int | None = Field(default=None, foreign_key="children.id", index=True)
    locale: str = Field(max_length=5)
    season_end: date
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
