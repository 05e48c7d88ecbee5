"""What the member-page tests share: a form for a child, and reading the audit trail."""

from __future__ import annotations

from sqlmodel import col, select

from consentlens.audit.models import AuditEvent


def child_form(**overrides):
    """The new-child form with a valid child, as a browser would post it."""
    data = {
        "first_name": "Lotte",
        "last_name": "Peeters",
        "birth_date": "2016-04-12",
        "external_id": "",
    }
    return {**data, **overrides}


def actions(db, org) -> list[str]:
    """The organisation's people.* audit actions, oldest first."""
    return list(
        db.exec(
            select(AuditEvent.action)
            .where(
                AuditEvent.organisation_id == org.id, col(AuditEvent.action).startswith("people.")
            )
            .order_by(col(AuditEvent.id))
        )
    )


def last_event(db, action: str) -> AuditEvent:
    """The latest audit event with this action."""
    return db.exec(
        select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id).desc())
    ).first()
