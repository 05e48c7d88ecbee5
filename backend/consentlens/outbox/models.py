"""One row per e-mail to send: the outbox is the queue, a job only says "deliver this one"."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from consentlens.core.tables import UTCDateTime, utcnow


class OutgoingMail(SQLModel, table=True):
    __tablename__ = "outgoing_mail"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisations.id", index=True)
    # What the mail is for, e.g. "consent.reminder": audited with the outcome, shown to staff.
    purpose: str = Field(max_length=60)
    recipient: str = Field(max_length=254)
    # The name the recipient sees as the sender (the club's), beside the configured address.
    sender_name: str = Field(default="", max_length=200)
    reply_to: str = Field(default="", max_length=254)
    subject: str = Field(max_length=300)
    # Holds personal sign-in links: emptied once the mail is delivered or given up on.
    body: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # A sender holds the row until then; a crashed one's claim simply runs out.
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    given_up_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=300)
