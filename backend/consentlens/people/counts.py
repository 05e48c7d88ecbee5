"""How many members an organisation has, for its admin home."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from consentlens.auth.models import Membership, Role
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child, Group


def organisation_counts(*, session: Session, organisation: Organisation) -> dict[str, int]:
    """How many groups, children, guardians and staff an organisation has."""

    def count(statement: object) -> int:
        return int(session.exec(statement).one())  # type: ignore[call-overload]

    return {
        "groups": count(
            select(func.count())
            .select_from(Group)
            .where(Group.organisation_id == organisation.id, col(Group.archived_at).is_(None))
        ),
        "children": count(
            select(func.count())
            .select_from(Child)
            .where(Child.organisation_id == organisation.id, col(Child.archived_at).is_(None))
        ),
        "guardians": count(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.organisation_id == organisation.id,
                Membership.role == Role.GUARDIAN.value,
            )
        ),
        "staff": count(
            select(func.count(func.distinct(Membership.user_id))).where(
                Membership.organisation_id == organisation.id,
                col(Membership.role).in_([Role.ADMIN.value, Role.STAFF.value]),
            )
        ),
    }
