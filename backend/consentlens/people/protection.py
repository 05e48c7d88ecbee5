"""Marking a child protected (or no longer protected): audited, and every photo re-judged at once.

What protection does to photos is decided by `consent.protection` and applied by the photo
verdicts; this room records the mark and tells the rooms above (`events.child_protection_changed`).
"""

from __future__ import annotations

from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.core.tables import utcnow
from consentlens.organisations.models import Organisation
from consentlens.people import events
from consentlens.people.changes import record_change
from consentlens.people.errors import PeopleError
from consentlens.people.models import Child

REASON_MAX = 300


def set_child_protected(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    protected: bool,
    reason: str = "",
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> bool:
    """Protect a child (with an optional reason) or lift it; True if that changed anything.

    Audited as people.child_protected / people.child_unprotected. The reason is kept for staff
    only; the audit row keeps it too, since who protected a child and why must be traceable.
    """
    if child.organisation_id != organisation.id:
        raise PeopleError("The child does not belong to this organisation.")
    if (child.protected_at is not None) == protected:
        return False
    now = utcnow()
    reason = " ".join(reason.split())[:REASON_MAX] if protected else ""
    child.protected_at = now if protected else None
    child.protected_reason = reason
    session.add(child)
    session.flush()
    record_change(
        session=session,
        action="people.child_protected" if protected else "people.child_unprotected",
        organisation=organisation,
        actor=actor,
        origin=origin,
        subject=child,
        **({"reason": reason} if protected else {}),
    )
    assert child.id is not None
    events.child_protection_changed.notify(
        session,
        events.ChildProtectionChanged(
            organisation=organisation,
            child_id=child.id,
            protected=protected,
            actor_id=actor.id if actor else None,
            now=now,
        ),
    )
    return True
