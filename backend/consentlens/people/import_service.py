"""Member import: plan each file row against the database (create, update, unchanged).

Applying a plan is `import_apply.py`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from consentlens.auth.models import User
from consentlens.core.i18n import N_
from consentlens.organisations.models import Organisation
from consentlens.organisations.service import local_today
from consentlens.people import import_rows, importer
from consentlens.people.import_rows import MemberRow, Message, message
from consentlens.people.models import Child, ChildGroup, Group, Guardianship


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass(frozen=True)
class PlannedRow:
    """What confirming will do with one row of the file, and why."""

    row: MemberRow
    action: Action
    child_id: int | None = None
    changes: tuple[Message, ...] = ()
    notes: tuple[Message, ...] = ()
    errors: tuple[Message, ...] = ()


@dataclass(frozen=True)
class ImportPlan:
    rows: tuple[PlannedRow, ...]
    new_groups: tuple[str, ...] = ()
    new_accounts: frozenset[str] = frozenset()  # e-mail addresses without an account yet
    # New group names that look like existing groups: likely the same group, spelled otherwise.
    group_warnings: tuple[Message, ...] = ()

    def count(self, action: Action) -> int:
        return sum(1 for planned in self.rows if planned.action is action)

    @property
    def counts(self) -> dict[str, int]:
        return {action.value: self.count(action) for action in Action}

    @property
    def has_changes(self) -> bool:
        return any(p.action in (Action.CREATE, Action.UPDATE) for p in self.rows)


@dataclass
class Existing:
    """The organisation's children, groups and guardians, indexed for matching."""

    by_external_id: dict[str, Child] = field(default_factory=dict)
    by_name: dict[tuple[str, str, str], list[Child]] = field(default_factory=dict)
    # By names only (birth date left out): who a new row may be a mistyped copy of.
    by_person: dict[tuple[str, str], list[Child]] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    child_groups: dict[int, set[int]] = field(default_factory=dict)
    guardians: dict[int, list[User]] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def parse_upload(*, organisation: Organisation, data: bytes) -> importer.ParsedFile:
    """Read an uploaded file, judging birth dates by the organisation's local calendar."""
    return importer.parse(data=data, today=local_today(organisation=organisation))


def _users_by_email(session: Session, emails: Iterable[str]) -> dict[str, User]:
    wanted = sorted(set(emails))
    found: dict[str, User] = {}
    # In chunks: SQLite limits the number of parameters in one statement.
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for user in session.exec(select(User).where(col(User.email).in_(chunk))):
            found[user.email] = user
    return found


def load_existing(
    *, session: Session, organisation: Organisation, rows: Sequence[MemberRow]
) -> Existing:
    """The organisation's children, groups and guardians, and the accounts the rows name."""
    existing = Existing()
    for child in session.exec(select(Child).where(Child.organisation_id == organisation.id)):
        assert child.id is not None
        if child.external_id:
            existing.by_external_id[child.external_id.casefold()] = child
        key = import_rows.name_key(
            first_name=child.first_name, last_name=child.last_name, birth_date=child.birth_date
        )
        existing.by_name.setdefault(key, []).append(child)
        if child.archived_at is None:
            existing.by_person.setdefault(key[:2], []).append(child)
    for group in session.exec(select(Group).where(Group.organisation_id == organisation.id)):
        existing.groups[group.name.casefold()] = group
    links = session.exec(
        select(ChildGroup)
        .join(Group, col(Group.id) == ChildGroup.group_id)
        .where(Group.organisation_id == organisation.id, col(Group.archived_at).is_(None))
    )
    # Only active groups count: links to archived groups are history and stay as they are.
    for link in links:
        existing.child_groups.setdefault(link.child_id, set()).add(link.group_id)
    guardians = session.exec(
        select(Guardianship.child_id, User)
        .join(User, col(User.id) == Guardianship.guardian_id)
        .join(Child, col(Child.id) == Guardianship.child_id)
        .where(Child.organisation_id == organisation.id)
    )
    for child_id, user in guardians:
        existing.guardians.setdefault(child_id, []).append(user)
    emails = (guardian.email for row in rows for guardian in row.guardians)
    existing.users = _users_by_email(session, emails)
    return existing


def _match(row: MemberRow, existing: Existing) -> tuple[Child | None, Message | None]:
    """The child a row describes: by member number, else by names and birth date."""
    if row.external_id and (child := existing.by_external_id.get(row.external_id.casefold())):
        return child, None
    key = import_rows.name_key(
        first_name=row.first_name, last_name=row.last_name, birth_date=row.birth_date
    )
    candidates = existing.by_name.get(key, [])
    if row.external_id:
        # A child already known under another member number is someone else.
        candidates = [child for child in candidates if not child.external_id]
    if len(candidates) > 1:
        return None, message(
            N_("Row %(row)s: several members have this name and birth date; add a member number."),
            row=row.line,
        )
    return (candidates[0] if candidates else None), None


def _names(names: Iterable[str]) -> str:
    return ", ".join(sorted(names, key=str.casefold)) or "-"


def _changes(row: MemberRow, child: Child, existing: Existing) -> list[Message]:
    """What an update would change in the child's own fields and groups."""
    assert child.id is not None and row.birth_date is not None
    pairs = [
        (N_("First name: %(old)s → %(new)s"), child.first_name, row.first_name),
        (N_("Last name: %(old)s → %(new)s"), child.last_name, row.last_name),
        (N_("Birth date: %(old)s → %(new)s"), child.birth_date, row.birth_date),
    ]
    if row.external_id:
        pairs.append((N_("Member number: %(old)s → %(new)s"), child.external_id, row.external_id))
    changes = [message(msgid, old=old or "-", new=new) for msgid, old, new in pairs if old != new]
    if row.groups is not None:
        by_id = {group.id: group.name for group in existing.groups.values()}
        current = {by_id[group_id] for group_id in existing.child_groups.get(child.id, set())}
        wanted = {
            existing.groups[n.casefold()].name if n.casefold() in existing.groups else n
            for n in row.groups
        }
        if {n.casefold() for n in current} != {n.casefold() for n in wanted}:
            changes.append(
                message(N_("Groups: %(old)s → %(new)s"), old=_names(current), new=_names(wanted))
            )
    return changes


def _guardian_messages(
    row: MemberRow, child: Child | None, existing: Existing
) -> tuple[list[Message], list[Message]]:
    """Guardians the row adds (changes), and linked guardians it leaves out (notes)."""
    linked = existing.guardians.get(child.id, []) if child and child.id else []
    linked_emails = {user.email for user in linked}
    added = [
        message(N_("New guardian: %(name)s (%(email)s)"), name=g.name or g.email, email=g.email)
        for g in row.guardians
        if g.email not in linked_emails
    ]
    in_file = {g.email for g in row.guardians}
    kept = [
        message(
            N_("%(name)s (%(email)s) is not in the file and stays linked as a guardian."),
            name=user.full_name,
            email=user.email,
        )
        for user in linked
        if user.email not in in_file
    ]
    return added, kept


def _plan_row(row: MemberRow, existing: Existing, claimed: dict[int, int]) -> PlannedRow:
    if row.errors:
        return PlannedRow(row=row, action=Action.ERROR, errors=row.errors)
    child, problem = _match(row, existing)
    archived = [name for name in row.groups or () if _archived_group(existing, name)]
    errors = [problem] if problem else []
    if child is not None and child.archived_at is not None:
        errors.append(message(N_("Row %(row)s: this member is archived."), row=row.line))
    if child is not None and child.id in claimed:
        errors.append(
            message(
                N_("Row %(row)s: the same member as row %(first)s."),
                row=row.line,
                first=claimed[child.id],
            )
        )
    errors += [
        message(N_("Row %(row)s: the group “%(group)s” is archived."), row=row.line, group=name)
        for name in archived
    ]
    if errors:
        return PlannedRow(row=row, action=Action.ERROR, errors=tuple(errors))
    added, kept = _guardian_messages(row, child, existing)
    if child is None:
        return PlannedRow(row=row, action=Action.CREATE, notes=tuple(_look_alikes(row, existing)))
    assert child.id is not None
    claimed[child.id] = row.line
    changes = _changes(row, child, existing) + added
    action = Action.UPDATE if changes else Action.UNCHANGED
    return PlannedRow(row, action, child.id, changes=tuple(changes), notes=tuple(kept))


def _look_alikes(row: MemberRow, existing: Existing) -> list[Message]:
    """A new row with the name of a member already known (another birth date or member number):
    most often the same child, typed differently; the staff member decides."""
    key = import_rows.name_key(first_name=row.first_name, last_name=row.last_name, birth_date=None)
    return [
        message(
            N_(
                "Row %(row)s: %(name)s (born %(born)s) is already a member. If this is the same "
                "child, correct the birth date or member number in the file; otherwise it is "
                "added as a new member."
            ),
            row=row.line,
            name=child.full_name,
            born=child.birth_date.isoformat(),
        )
        for child in existing.by_person.get(key[:2], [])
    ]


def similar_group(*, name: str, existing: Iterable[str]) -> str | None:
    """An existing group a new group name most likely means ("U10" for "U10 Dolfijnen", "u 10"
    for "U10"): the same words ignoring case, spaces and punctuation, or one name's words
    starting the other's."""

    def words(text: str) -> list[str]:
        return "".join(c if c.isalnum() else " " for c in text.casefold()).split()

    new = words(name)
    if not new:
        return None
    for candidate in sorted(existing, key=str.casefold):
        old = words(candidate)
        if not old:
            continue
        shorter, longer = sorted((new, old), key=len)
        if "".join(new) == "".join(old) or longer[: len(shorter)] == shorter:
            return candidate
    return None


def _archived_group(existing: Existing, name: str) -> bool:
    group = existing.groups.get(name.casefold())
    return group is not None and group.archived_at is not None


def plan_import(
    *, session: Session, organisation: Organisation, rows: Sequence[MemberRow]
) -> ImportPlan:
    """What importing these rows would do; changes nothing."""
    existing = load_existing(session=session, organisation=organisation, rows=rows)
    claimed: dict[int, int] = {}
    planned = tuple(_plan_row(row, existing, claimed) for row in rows)
    active = [p.row for p in planned if p.action in (Action.CREATE, Action.UPDATE)]
    new_groups = {
        name.casefold(): name
        for row in active
        for name in row.groups or ()
        if name.casefold() not in existing.groups
    }
    new_accounts = frozenset(
        g.email for row in active for g in row.guardians if g.email not in existing.users
    )
    known = [group.name for group in existing.groups.values() if group.archived_at is None]
    group_warnings = tuple(
        message(
            N_(
                "The new group “%(new)s” looks like the existing group “%(old)s”. If it is the "
                "same group, use “%(old)s” in the file."
            ),
            new=name,
            old=old,
        )
        for name in sorted(new_groups.values(), key=str.casefold)
        if (old := similar_group(name=name, existing=known)) is not None
    )
    return ImportPlan(
        rows=planned,
        new_groups=tuple(sorted(new_groups.values(), key=str.casefold)),
        new_accounts=new_accounts,
        group_warnings=group_warnings,
    )
