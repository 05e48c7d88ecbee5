"""The organisation (club or school): the tenant every other table belongs to."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint
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
