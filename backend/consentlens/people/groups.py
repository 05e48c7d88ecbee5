"""Groups (teams, classes): listing, renaming, archiving, and which children are in which."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, func, or_, select

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.core.i18n import N_
from consentlens.organisations.models import Organisation
from consentlens.people.changes import record_change, set_archived
from consentlens.people.errors import PeopleError, Problem
from consentlens.people.models import Child, ChildGroup, Group

NAME_MAX = 120  # the column's length


def check_group_name(
    *, session: Session, organisation: Organisation, name: str, group_id: int | None = None
) -> list[Problem]:
    """What is wrong with a group name: empty, too long, or already taken (archived groups too)."""
    name = name.strip()
    if not name:
        return [Problem("name", N_("Enter a name for the group."))]
    if len(name) > NAME_MAX:
        return [Problem("name", N_("That name is too long."))]
    # Case-insensitive: "U10" and "u10" side by side would only confuse. (SQLite lowers ASCII
    # only, so the exact name is compared too: the unique constraint must never be what stops it.)
    clash = session.exec(
        select(Group.id).where(
            Group.organisation_id == organisation.id,
            or_(Group.name == name, func.lower(Group.name) == name.lower()),
            Group.id != group_id if group_id is not None else True,
        )
    ).first()
    if clash is not None:
        return [Problem("name", N_("A group with this name already exists (perhaps archived)."))]
    return []


def create_group(
    *,
    session: Session,
    organisation: Organisation,
    name: str,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Group:
    """A new active group; audited."""
    assert organisation.id is not None
    problems = check_group_name(session=session, organisation=organisation, name=name)
    if problems:
        raise PeopleError(problems=problems)
    group = Group(organisation_id=organisation.id, name=name.strip())
    session.add(group)
    session.flush()
    record_change(
        session=session,
        action="people.group_created",
        organisation=organisation,
        actor=actor,
        origin=origin,
        subject=group,
        name=group.name,
    )
    return group


def list_groups(
    *, session: Session, organisation: Organisation, include_archived: bool = False
) -> list[Group]:
    """The organisation's groups by name (active ones only, unless asked)."""
    statement = select(Group).where(Group.organisation_id == organisation.id)
    if not include_archived:
        statement = statement.where(col(Group.archived_at).is_(None))
    return list(session.exec(statement.order_by(func.lower(Group.name), col(Group.id))))


def get_group(*, session: Session, organisation: Organisation, group_id: int) -> Group | None:
    """The organisation's group with that id (archived or not); None for anyone else's."""
    group = session.get(Group, group_id)
    return group if group is not None and group.organisation_id == organisation.id else None


def resolve_groups(
    *, session: Session, organisation: Organisation, group_ids: Iterable[int]
) -> list[Group]:
    """The active groups with these ids; any unknown, foreign or archived id is an error."""
    wanted = set(group_ids)
    if not wanted:
        return []
    found = list(
        session.exec(
            select(Group).where(
                col(Group.id).in_(wanted),
                Group.organisation_id == organisation.id,
                col(Group.archived_at).is_(None),
            )
        )
    )
    if len(found) != len(wanted):
        raise PeopleError(problems=[Problem("group_ids", N_("Choose groups from the list."))])
    return sorted(found, key=lambda g: g.name.lower())


def child_counts(*, session: Session, organisation: Organisation) -> dict[int, int]:
    """How many active children each of the organisation's groups has."""
    rows = session.exec(
        select(ChildGroup.group_id, func.count())
        .join(Child, col(Child.id) == ChildGroup.child_id)
        .where(Child.organisation_id == organisation.id, col(Child.archived_at).is_(None))
        .group_by(col(ChildGroup.group_id))
    ).all()
    return {group_id: int(count) for group_id, count in rows}


def groups_by_child(*, session: Session, child_ids: Sequence[int]) -> dict[int, list[Group]]:
    """Each child's groups (archived ones too; callers check `archived_at`), by name."""
    result: dict[int, list[Group]] = {child_id: [] for child_id in child_ids}
    if not child_ids:
        return result
    rows = session.exec(
        select(ChildGroup.child_id, Group)
        .join(Group, col(Group.id) == ChildGroup.group_id)
        .where(col(ChildGroup.child_id).in_(child_ids))
        .order_by(func.lower(Group.name))
    ).all()
    for child_id, group in rows:
        result[child_id].append(group)
    return result


def rename_group(
    *,
    session: Session,
    organisation: Organisation,
    group: Group,
    name: str,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Group:
    """Give a group another name (checked like a new one); audited."""
    if group.organisation_id != organisation.id:
        raise PeopleError("The group does not belong to this organisation.")
    problems = check_group_name(
        session=session, organisation=organisation, name=name, group_id=group.id
    )
    if problems:
        raise PeopleError(problems=problems)
    if group.name != name.strip():
        old, group.name = group.name, name.strip()
        session.add(group)
        session.flush()
        record_change(
            session=session,
            action="people.group_renamed",
            organisation=organisation,
            actor=actor,
            origin=origin,
            subject=group,
            old=old,
            new=group.name,
        )
    return group


def set_group_archived(
    *,
    session: Session,
    organisation: Organisation,
    group: Group,
    archived: bool,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Group:
    """Archive or restore a group; its children keep their link, so a restore brings them back."""
    if group.organisation_id != organisation.id:
        raise PeopleError("The group does not belong to this organisation.")
    set_archived(
        session=session,
        organisation=organisation,
        subject=group,
        archived=archived,
        actor=actor,
        origin=origin,
    )
    return group
