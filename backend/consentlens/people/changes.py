"""The audit trail of people changes: one event per change to a child, group or guardian."""

from __future__ import annotations

from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.core.tables import utcnow
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


def set_archived(
    *,
    session: Session,
    organisation: Organisation,
    subject: Child | Group,
    archived: bool,
    actor: User | None,
    origin: audit.Origin | None,
) -> bool:
    """Archive or restore a child or group (audited as e.g. people.group_archived); True if
    that changed anything. The caller has checked that it belongs to the organisation."""
    if (subject.archived_at is not None) == archived:
        return False
    subject.archived_at = utcnow() if archived else None
    session.add(subject)
    session.flush()
    kind = "child" if isinstance(subject, Child) else "group"
    record_change(
        session=session,
        action=f"people.{kind}_{'archived' if archived else 'restored'}",
        organisation=organisation,
        actor=actor,
        origin=origin,
        subject=subject,
    )
    return True
