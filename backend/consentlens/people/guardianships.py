"""Guardianships: the link between a child and a guardian's account, made and undone.

A guardian is a `User` linked to children by `Guardianship` rows and holding a `guardian`
membership in the organisation. Removing a guardian's last child here removes both, and ends their
personal links; their past decisions stay in the consent log, where the policy ignores them.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, or_, select

from consentlens.audit import service as audit
from consentlens.auth import service as accounts
from consentlens.auth import sessions
from consentlens.auth.models import ConsentLink, Membership, Role, User
from consentlens.core.tables import utcnow
from consentlens.organisations.models import Organisation
from consentlens.people.changes import record_change
from consentlens.people.children import org_child_ids
from consentlens.people.errors import PeopleError
from consentlens.people.models import Child, Guardianship


def is_own_account(*, session: Session, organisation: Organisation, user: User) -> bool:
    """Whether the organisation may link this account without asking its holder: it already has
    a role here, or it is a new account that nobody has claimed (no role anywhere, no password)."""
    organisation_ids = set(
        session.exec(select(Membership.organisation_id).where(Membership.user_id == user.id))
    )
    if organisation.id in organisation_ids:
        return True
    return not organisation_ids and user.password_hash is None


def create_guardianship(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    user: User,
    relation: str = "parent",
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Guardianship:
    """Make the link (idempotent); the guardian becomes a member of the organisation.

    Only after the ownership check: `guardian_requests.link_or_ask`, or the account holder's own
    confirmation (`guardian_requests.answer`).
    """
    if child.organisation_id != organisation.id:
        raise PeopleError("The child does not belong to this organisation.")
    assert child.id is not None and user.id is not None
    existing = session.exec(
        select(Guardianship).where(
            Guardianship.child_id == child.id, Guardianship.guardian_id == user.id
        )
    ).first()
    if existing is not None:
        return existing
    link = Guardianship(child_id=child.id, guardian_id=user.id, relation=relation)
    session.add(link)
    accounts.add_membership(
        session=session, user=user, organisation=organisation, role=Role.GUARDIAN
    )
    session.flush()
    record_change(
        session=session,
        action="people.guardian_linked",
        organisation=organisation,
        actor=actor,
        origin=origin,
        subject=child,
        guardian_id=user.id,
        relation=relation,
    )
    return link


def _leave_if_no_children(
    session: Session, organisation: Organisation, guardian: User
) -> list[int] | None:
    """Drop the guardian membership and revoke the personal links of a guardian who has no
    children left in the organisation: None if they still have some, else the revoked link ids."""
    remaining = session.exec(
        select(Guardianship.id).where(
            Guardianship.guardian_id == guardian.id,
            col(Guardianship.child_id).in_(org_child_ids(organisation)),
        )
    ).first()
    if remaining is not None:
        return None
    for membership in session.exec(
        select(Membership).where(
            Membership.user_id == guardian.id,
            Membership.organisation_id == organisation.id,
            Membership.role == Role.GUARDIAN.value,
        )
    ):
        session.delete(membership)
    # Their personal consent links stop working here; the audit event lists them.
    now = utcnow()
    revoked: list[int] = []
    for link in session.exec(
        select(ConsentLink).where(
            ConsentLink.organisation_id == organisation.id,
            ConsentLink.guardian_id == guardian.id,
            col(ConsentLink.revoked_at).is_(None),
        )
    ):
        link.revoked_at = now
        session.add(link)
        assert link.id is not None
        revoked.append(link.id)
    # And the sessions those links opened end with them.
    sessions.end_all_for_links(session=session, link_ids=revoked, now=now)
    session.flush()
    return revoked


def unlink_guardian(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    guardian: User,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> bool:
    """Remove one guardian from one child; with no children left here they leave the
    organisation's guardians. Returns whether there was a link to remove."""
    if child.organisation_id != organisation.id:
        raise PeopleError("The child does not belong to this organisation.")
    link = session.exec(
        select(Guardianship).where(
            Guardianship.child_id == child.id, Guardianship.guardian_id == guardian.id
        )
    ).first()
    if link is None:
        return False
    relation = link.relation
    session.delete(link)
    session.flush()
    revoked = _leave_if_no_children(session, organisation, guardian)
    record_change(
        session=session,
        action="people.guardian_unlinked",
        organisation=organisation,
        actor=actor,
        origin=origin,
        subject=child,
        guardian_id=guardian.id,
        relation=relation,
        left_organisation=revoked is not None,
        revoked_links=revoked or [],
    )
    return True


def archive_guardian(
    *,
    session: Session,
    organisation: Organisation,
    guardian: User,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> list[int]:
    """Remove a guardian from all of the organisation's children and from its guardians.

    Returns the ids of the children they were linked to. The account itself stays (it may be
    used elsewhere), and so do their past decisions.
    """
    child_links = session.exec(
        select(Guardianship).where(
            Guardianship.guardian_id == guardian.id,
            col(Guardianship.child_id).in_(org_child_ids(organisation)),
        )
    ).all()
    child_ids = sorted(link.child_id for link in child_links)
    for link in child_links:
        session.delete(link)
    session.flush()
    revoked = _leave_if_no_children(session, organisation, guardian)
    record_change(
        session=session,
        action="people.guardian_archived",
        organisation=organisation,
        actor=actor,
        origin=origin,
        subject=guardian,
        child_ids=child_ids,
        revoked_links=revoked or [],
    )
    return child_ids


def any_child_id(*, session: Session, guardian_id: int | None) -> int | None:
    """The id of one of the guardian's children (whichever the database finds first), else None."""
    return session.exec(
        select(Guardianship.child_id).where(Guardianship.guardian_id == guardian_id)
    ).first()


def active_links(
    *, session: Session, organisation: Organisation, now: datetime, child: Child
) -> list[ConsentLink]:
    """Unexpired, unrevoked personal links of a child and of the child's guardians."""
    guardian_ids = select(Guardianship.guardian_id).where(Guardianship.child_id == child.id)
    return list(
        session.exec(
            select(ConsentLink)
            .where(
                ConsentLink.organisation_id == organisation.id,
                col(ConsentLink.revoked_at).is_(None),
                ConsentLink.expires_at > now,
                or_(
                    col(ConsentLink.child_id) == child.id,
                    col(ConsentLink.guardian_id).in_(guardian_ids),
                ),
            )
            .order_by(col(ConsentLink.created_at).desc())
        )
    )
