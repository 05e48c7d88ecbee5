"""Consent uses per organisation and the append-only log of consent decisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from consentlens.core.tables import UTCDateTime, utcnow


class ConsentUse(SQLModel, table=True):
    """A purpose a photo may be used for (or face recognition itself), in three languages."""

    __tablename__ = "consent_uses"
    __table_args__ = (
        UniqueConstraint("organisation_id", "code"),
        CheckConstraint("unconsented_action IN ('blur', 'hide')", name="unconsented_action"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    code: str = Field(max_length=40)
    sort_order: int = 0
    # False for face_recognition: it allows recognising the child, not showing a photo.
    applies_to_photos: bool = True
    # What a photo with a face that lacks this consent becomes in this use.
    unconsented_action: str = Field(default="blur", max_length=10)
    label_nl: str = Field(max_length=120)
    label_fr: str = Field(max_length=120)
    label_en: str = Field(max_length=120)
    explanation_nl: str = Field(max_length=1000)
    explanation_fr: str = Field(max_length=1000)
    explanation_en: str = Field(max_length=1000)
    example_nl: str = Field(default="", max_length=500)
    example_fr: str = Field(default="", max_length=500)
    example_en: str = Field(default="", max_length=500)

    def label(self, locale: str) -> str:
        return getattr(self, f"label_{locale}", self.label_en)

    def explanation(self, locale: str) -> str:
        return getattr(self, f"explanation_{locale}", self.explanation_en)

    def example(self, locale: str) -> str:
        return getattr(self, f"example_{locale}", self.example_en)


class ConsentDecision(SQLModel, table=True):
    """One yes or no, by one guardian or by the child, for one use. Rows are never changed."""

    __tablename__ = "consent_decisions"
    __table_args__ = (
        CheckConstraint(
            "(party = 'guardian' AND guardian_id IS NOT NULL) "
            "OR (party = 'child' AND guardian_id IS NULL)",
            name="party_guardian",
        ),
        CheckConstraint("method IN ('online', 'paper', 'staff')", name="method"),
        CheckConstraint("valid_until > decided_at", name="valid_after_decided"),
        Index("ix_consent_decisions_child_use", "child_id", "use_id", "decided_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="children.id")
    use_id: int = Field(foreign_key="consent_uses.id", index=True)
    granted: bool
    party: str = Field(max_length=10)
    # The guardian whose decision this is (party = guardian).
    guardian_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    # Who entered it: the guardian or child online, or a staff member copying a paper form.
    recorded_by_id: int | None = Field(default=None, foreign_key="users.id")
    method: str = Field(max_length=10)
    decided_at: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    evidence_ref: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
