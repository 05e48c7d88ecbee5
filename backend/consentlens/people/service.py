"""Organisations, groups, children and guardians."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from sqlmodel import Session, col, func, select

from consentlens.auth import service as accounts
from consentlens.auth.models import Membership, Role, User
from consentlens.consent.service import ensure_default_uses
from consentlens.people.models import Child, ChildGroup, Group, Guardianship, Organisation


class PeopleError(ValueError):
    """Bad input for a people operation; the message is shown to the user."""


def default_season_end(today: date) -> date:
    """Clubs and schools run September to June: the season ends on the coming 30 June."""
    end = date(today.year, 6, 30)
    return end if today <= end else date(today.year + 1, 6, 30)


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:80] or "organisation"


def get_organisation(*, session: Session, name_or_slug: str) -> Organisation | None:
    return session.exec(
        select(Organisation).where(
            (Organisation.slug == name_or_slug) | (Organisation.name == name_or_slug)
        )
    ).first()


def create_organisation(
    *,
    session: Session,
    name: str,
    today: date,
    slug: str | None = None,
    default_locale: str = "nl",
) -> Organisation:
    """A new organisation with the default consent uses."""
    if not name.strip():
        raise PeopleError("An organisation needs a name.")
    slug = slug or slugify(name)
    if session.exec(select(Organisation).where(Organisation.slug == slug)).first() is not None:
        raise PeopleError(f"An organisation with the short name '{slug}' already exists.")
    organisation = Organisation(
        name=name.strip(),
        slug=slug,
        season_end=default_season_end(today),
        default_locale=default_locale,
        privacy_controller=name.strip(),
    )
    session.add(organisation)
    session.flush()
    ensure_default_uses(session=session, organisation=organisation)
    return organisation


def create_group(*, session: Session, organisation: Organisation, name: str) -> Group:
    assert organisation.id is not None
    group = Group(organisation_id=organisation.id, name=name.strip())
    session.add(group)
    session.flush()
    return group


def create_child(
    *,
    session: Session,
    organisation: Organisation,
    first_name: str,
    last_name: str,
    birth_date: date,
    groups: Iterable[Group] = (),
    external_id: str | None = None,
) -> Child:
    assert organisation.id is not None
    child = Child(
        organisation_id=organisation.id,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        birth_date=birth_date,
        external_id=external_id,
    )
    session.add(child)
    session.flush()
    for group in groups:
        if group.organisation_id != organisation.id:
            raise PeopleError("A child can only join groups of its own organisation.")
        assert child.id is not None and group.id is not None
        session.add(ChildGroup(child_id=child.id, group_id=group.id))
    session.flush()
    return child


def add_guardian(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    user: User,
    relation: str = "parent",
) -> Guardianship:
    """Link a guardian to a child; the guardian becomes a member of the organisation."""
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
    return link


def list_children(*, session: Session, organisation: Organisation) -> list[Child]:
    return list(
        session.exec(
            select(Child)
            .where(Child.organisation_id == organisation.id, col(Child.archived_at).is_(None))
            .order_by(col(Child.last_name), col(Child.first_name))
        )
    )


def children_of_guardian(
    *, session: Session, organisation: Organisation, guardian: User
) -> list[Child]:
    return list(
        session.exec(
            select(Child)
            .join(Guardianship, col(Guardianship.child_id) == Child.id)
            .where(
                Guardianship.guardian_id == guardian.id,
                Child.organisation_id == organisation.id,
                col(Child.archived_at).is_(None),
            )
            .order_by(col(Child.birth_date))
        )
    )


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
