"""The audit trail of people changes: one event per change to a child, group or guardian."""

from __future__ import annotations

from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child, Group


def record_change(
    *,
    session: Session,
    action: str,
    organisation: Organisation,
    actor: User | None,
    origin: audit.Origin | None,
    subject: Child | Group | User,
    **details: object,
) -> None:
    """Audit one change to a child, group or guardian."""
    audit.record(
        session=session,
        action=action,
        organisation_id=organisation.id,
        actor_id=actor.id if actor else None,
        subject_type={Child: "child", Group: "group", User: "user"}[type(subject)],
        subject_id=subject.id,
        details=details,
        origin=origin,
    )
