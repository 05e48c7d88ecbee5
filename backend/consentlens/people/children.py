"""Children: checking, adding, editing, archiving, and listing the organisation's members."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

from sqlmodel import Session, col, func, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.core.dates import years_after
from consentlens.core.i18n import N_
from consentlens.core.tables import utcnow
from consentlens.organisations.models import Organisation
from consentlens.organisations.service import local_today
from consentlens.people import events
from consentlens.people.changes import record_change, set_archived
from consentlens.people.errors import PeopleError, Problem
from consentlens.people.models import Child, ChildGroup, Group

# A birth date further back than this is a typo (a wrong year), not a member.
MAX_AGE_YEARS = 25
NAME_MAX = 120  # the name columns' length
EXTERNAL_ID_MAX = 80


def parse_date(text: str) -> date | None:
    """A date typed as 2015-03-31 (what date inputs send) or 31/03/2015; None if unreadable."""
    text = text.strip()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    parts = (match.group(1), match.group(2), match.group(3)) if match else None
    if parts is None:
        match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
        parts = (match.group(3), match.group(2), match.group(1)) if match else None
    if parts is None:
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def check_child(
    *,
    session: Session,
    organisation: Organisation,
    first_name: str,
    last_name: str,
    birth_date: date | None,
    external_id: str | None,
    today: date,
    child_id: int | None = None,
) -> list[Problem]:
    """Everything wrong with a child's details at once (birth_date None: missing or unreadable)."""
    problems = []
    for field, value, message in (
        ("first_name", first_name, N_("Enter the child's first name.")),
        ("last_name", last_name, N_("Enter the child's last name.")),
    ):
        if not value.strip():
            problems.append(Problem(field, message))
        elif len(value.strip()) > NAME_MAX:
            problems.append(Problem(field, N_("That name is too long.")))
    if birth_date is None:
        problems.append(Problem("birth_date", N_("Enter a valid birth date.")))
    elif birth_date > today:
        problems.append(Problem("birth_date", N_("The birth date cannot be in the future.")))
    elif birth_date < years_after(day=today, years=-MAX_AGE_YEARS):
        problems.append(
            Problem("birth_date", N_("The birth date is more than 25 years ago. Check the year."))
        )
    if external_id and len(external_id) > EXTERNAL_ID_MAX:
        problems.append(Problem("external_id", N_("The external id is too long.")))
    elif external_id:
        clash = session.exec(
            select(Child.id).where(
                Child.organisation_id == organisation.id,
                Child.external_id == external_id,
                Child.id != child_id if child_id is not None else True,
            )
        ).first()
        if clash is not None:
            problems.append(
                Problem("external_id", N_("Another child already has this external id."))
            )
    return problems


def _valid_details(
    session: Session,
    organisation: Organisation,
    values: tuple[str, str, date | None, str | None],
    today: date | None,
    child_id: int | None = None,
    more_problems: Sequence[Problem] = (),
) -> dict[str, object]:
    """A child's checked, trimmed fields (first, last name, birth date, external id), or the
    `PeopleError` listing every problem, the caller's `more_problems` after the child's own."""
    first_name, last_name, birth_date, external_id = values
    external_id = (external_id or "").strip() or None
    problems = check_child(
        session=session,
        organisation=organisation,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        external_id=external_id,
        today=today or local_today(organisation=organisation),
        child_id=child_id,
    ) + list(more_problems)
    if problems:
        raise PeopleError(problems=problems)
    return {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "birth_date": birth_date,
        "external_id": external_id,
    }


def create_child(
    *,
    session: Session,
    organisation: Organisation,
    first_name: str,
    last_name: str,
    birth_date: date | None,
    groups: Iterable[Group] = (),
    external_id: str | None = None,
    today: date | None = None,
    actor: User | None = None,
    origin: audit.Origin | None = None,
    more_problems: Sequence[Problem] = (),
) -> Child:
    """A new child in some of the organisation's groups; checks everything before writing.

    `more_problems`: what the caller found wrong with what it adds along (the guardians), so
    that one answer lists everything and nothing is written.
    """
    assert organisation.id is not None
    groups = list(groups)
    if any(group.organisation_id != organisation.id for group in groups):
        raise PeopleError("A child can only join groups of its own organisation.")
    values = (first_name, last_name, birth_date, external_id)
    details = _valid_details(session, organisation, values, today, more_problems=more_problems)
    child = Child(organisation_id=organisation.id, **details)  # type: ignore[arg-type]
    session.add(child)
    session.flush()
    for group in groups:
        assert child.id is not None and group.id is not None
        session.add(ChildGroup(child_id=child.id, group_id=group.id))
    session.flush()
    record_change(
        session=session,
        action="people.child_created",
        organisation=organisation,
        actor=actor,
        origin=origin,
        subject=child,
        group_ids=[g.id for g in groups],
    )
    return child


def get_child(*, session: Session, organisation: Organisation, child_id: int) -> Child | None:
    """The organisation's child with that id (archived or not); None for anyone else's."""
    child = session.get(Child, child_id)
    return child if child is not None and child.organisation_id == organisation.id else None


def update_child(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    first_name: str,
    last_name: str,
    birth_date: date | None,
    external_id: str | None = None,
    groups: Sequence[Group] | None = None,
    today: date | None = None,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Child:
    """Change a child's details and (unless groups is None) its active groups; audited."""
    if child.organisation_id != organisation.id:
        raise PeopleError("The child does not belong to this organisation.")
    values = (first_name, last_name, birth_date, external_id)
    new = _valid_details(session, organisation, values, today, child.id)
    changed = [field for field, value in new.items() if getattr(child, field) != value]
    for field in changed:
        setattr(child, field, new[field])
    session.add(child)
    if groups is not None and set_child_groups(
        session=session, organisation=organisation, child=child, groups=groups
    ):
        changed.append("groups")
    session.flush()
    if changed:
        record_change(
            session=session,
            action="people.child_updated",
            organisation=organisation,
            actor=actor,
            origin=origin,
            subject=child,
            changed=changed,
        )
    return child


def set_child_groups(
    *, session: Session, organisation: Organisation, child: Child, groups: Sequence[Group]
) -> bool:
    """Put a child in exactly these active groups (links to archived ones stay); True if changed."""
    if any(g.organisation_id != organisation.id or g.archived_at is not None for g in groups):
        raise PeopleError(problems=[Problem("group_ids", N_("Choose groups from the list."))])
    current = session.exec(
        select(ChildGroup, Group)
        .join(Group, col(Group.id) == ChildGroup.group_id)
        .where(ChildGroup.child_id == child.id, col(Group.archived_at).is_(None))
    ).all()
    wanted = {g.id for g in groups}
    have = {link.group_id for link, _ in current}
    for link, _ in current:
        if link.group_id not in wanted:
            session.delete(link)
    for group_id in wanted - have:
        assert child.id is not None and group_id is not None
        session.add(ChildGroup(child_id=child.id, group_id=group_id))
    session.flush()
    if wanted != have and child.protected_at is not None:
        # A protected child's new group's events may now show them: judged again at once. Photos
        # of a group they left stay hidden until next judged (the image routes judge on request).
        assert child.id is not None
        events.child_protection_changed.notify(
            session,
            events.ChildProtectionChanged(
                organisation=organisation,
                child_id=child.id,
                protected=True,
                actor_id=None,
                now=utcnow(),
            ),
        )
    return wanted != have


def set_child_archived(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    archived: bool,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Child:
    """Archive (hide from lists and pickers, delete nothing) or restore a child; audited."""
    if child.organisation_id != organisation.id:
        raise PeopleError("The child does not belong to this organisation.")
    changed = set_archived(
        session=session,
        organisation=organisation,
        subject=child,
        archived=archived,
        actor=actor,
        origin=origin,
    )
    if changed and archived:
        # An archived child is recognised nowhere: references and identifications go, faces
        # are covered again, and publications showing them are flagged for takedown.
        assert child.id is not None
        events.child_archived.notify(
            session,
            events.ChildArchived(
                organisation=organisation,
                child_id=child.id,
                actor_id=actor.id if actor else None,
                now=utcnow(),
                reason="The child was archived.",
            ),
        )
    return child


def list_children(
    *,
    session: Session,
    organisation: Organisation,
    search: str = "",
    group_id: int | None = None,
    include_archived: bool = False,
) -> list[Child]:
    """The organisation's children by name; search matches every word in a name or external id."""
    statement = select(Child).where(Child.organisation_id == organisation.id)
    if not include_archived:
        statement = statement.where(col(Child.archived_at).is_(None))
    for word in search.lower().split()[:5]:
        statement = statement.where(
            or_(
                func.lower(Child.first_name).contains(word, autoescape=True),
                func.lower(Child.last_name).contains(word, autoescape=True),
                func.lower(Child.external_id).contains(word, autoescape=True),
            )
        )
    if group_id is not None:
        statement = statement.where(
            col(Child.id).in_(select(ChildGroup.child_id).where(ChildGroup.group_id == group_id))
        )
    return list(
        session.exec(statement.order_by(col(Child.last_name), col(Child.first_name), col(Child.id)))
    )


def org_child_ids(organisation: Organisation) -> SelectOfScalar[int | None]:
    """The ids of the organisation's children (archived too), as a subquery."""
    return select(col(Child.id)).where(Child.organisation_id == organisation.id)
