"""Member import: plan each file row against the database (create, update, unchanged), apply."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.auth import service as accounts
from consentlens.auth.models import User
from consentlens.core.i18n import N_
from consentlens.core.tables import utcnow
from consentlens.people import guardian_requests, importer
from consentlens.people import service as people
from consentlens.people.importer import MemberRow, Message, message
from consentlens.people.models import (
    Child,
    ChildGroup,
    Group,
    Guardianship,
    Organisation,
    PendingGuardianship,
)


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

    def count(self, action: Action) -> int:
        return sum(1 for planned in self.rows if planned.action is action)

    @property
    def counts(self) -> dict[str, int]:
        return {action.value: self.count(action) for action in Action}

    @property
    def has_changes(self) -> bool:
        return any(p.action in (Action.CREATE, Action.UPDATE) for p in self.rows)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    skipped: tuple[PlannedRow, ...]
    groups_created: tuple[str, ...] = ()
    accounts_created: int = 0
    # Existing accounts of other people: asked by e-mail to confirm, not linked.
    confirmations_requested: int = 0


@dataclass
class _Existing:
    """The organisation's children, groups and guardians, indexed for matching."""

    by_external_id: dict[str, Child] = field(default_factory=dict)
    by_name: dict[tuple[str, str, str], list[Child]] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    child_groups: dict[int, set[int]] = field(default_factory=dict)
    guardians: dict[int, list[User]] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def parse_upload(*, organisation: Organisation, data: bytes) -> importer.ParsedFile:
    """Read an uploaded file, judging birth dates by the organisation's local calendar."""
    return importer.parse(data, today=people.local_today(organisation))


def _users_by_email(session: Session, emails: Iterable[str]) -> dict[str, User]:
    wanted = sorted(set(emails))
    found: dict[str, User] = {}
    # In chunks: SQLite limits the number of parameters in one statement.
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for user in session.exec(select(User).where(col(User.email).in_(chunk))):
            found[user.email] = user
    return found


def _load(session: Session, organisation: Organisation, rows: Sequence[MemberRow]) -> _Existing:
    existing = _Existing()
    for child in session.exec(select(Child).where(Child.organisation_id == organisation.id)):
        assert child.id is not None
        if child.external_id:
            existing.by_external_id[child.external_id.casefold()] = child
        key = importer.name_key(child.first_name, child.last_name, child.birth_date)
        existing.by_name.setdefault(key, []).append(child)
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


def _match(row: MemberRow, existing: _Existing) -> tuple[Child | None, Message | None]:
    """The child a row describes: by member number, else by names and birth date."""
    if row.external_id and (child := existing.by_external_id.get(row.external_id.casefold())):
        return child, None
    key = importer.name_key(row.first_name, row.last_name, row.birth_date)
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


def _changes(row: MemberRow, child: Child, existing: _Existing) -> list[Message]:
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
    row: MemberRow, child: Child | None, existing: _Existing
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


def _plan_row(row: MemberRow, existing: _Existing, claimed: dict[int, int]) -> PlannedRow:
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
        return PlannedRow(row=row, action=Action.CREATE)
    assert child.id is not None
    claimed[child.id] = row.line
    changes = _changes(row, child, existing) + added
    action = Action.UPDATE if changes else Action.UNCHANGED
    return PlannedRow(row, action, child.id, changes=tuple(changes), notes=tuple(kept))


def _archived_group(existing: _Existing, name: str) -> bool:
    group = existing.groups.get(name.casefold())
    return group is not None and group.archived_at is not None


def plan_import(
    *, session: Session, organisation: Organisation, rows: Sequence[MemberRow]
) -> ImportPlan:
    """What importing these rows would do; changes nothing."""
    existing = _load(session, organisation, rows)
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
    return ImportPlan(
        rows=planned,
        new_groups=tuple(sorted(new_groups.values(), key=str.casefold)),
        new_accounts=new_accounts,
    )


@dataclass
class _Applier:
    """Writes through the people services (so each change is audited), creating every group and
    account once, however many rows name them."""

    session: Session
    organisation: Organisation
    actor: User
    origin: audit.Origin
    groups: dict[str, Group]
    users: dict[str, User]
    groups_created: list[str] = field(default_factory=list)
    accounts_created: int = 0
    confirmations_requested: int = 0

    def _who(self) -> dict[str, Any]:
        return {"session": self.session, "organisation": self.organisation}

    def group(self, name: str) -> Group:
        key = name.casefold()
        if key not in self.groups:
            group = people.create_group(
                **self._who(), name=name, actor=self.actor, origin=self.origin
            )
            self.groups[key] = group
            self.groups_created.append(group.name)
        return self.groups[key]

    def user(self, guardian: importer.GuardianRow) -> User:
        if guardian.email not in self.users:
            user = accounts.create_user(
                session=self.session,
                email=guardian.email,
                full_name=guardian.name,
                locale=guardian.language,
            )
            # Only a new account takes the phone number: an existing one is its owner's to edit.
            user.phone = guardian.phone or None
            self.session.add(user)
            self.users[guardian.email] = user
            self.accounts_created += 1
        return self.users[guardian.email]

    def link_guardians(self, child: Child, row: MemberRow) -> None:
        for guardian in row.guardians:
            user = self.user(guardian)
            linked = guardian_requests.link_or_ask(
                **self._who(),
                child=child,
                user=user,
                relation="parent",
                now=utcnow(),
                actor=self.actor,
                origin=self.origin,
            )
            # Someone else's account: its holder confirms before the club gets any say.
            if isinstance(linked, PendingGuardianship):
                self.confirmations_requested += 1

    def create(self, row: MemberRow) -> None:
        child = people.create_child(
            **self._who(),
            first_name=row.first_name,
            last_name=row.last_name,
            birth_date=row.birth_date,
            groups=[self.group(name) for name in row.groups or ()],
            external_id=row.external_id,
            actor=self.actor,
            origin=self.origin,
        )
        self.link_guardians(child, row)

    def update(self, child: Child, row: MemberRow) -> None:
        people.update_child(
            **self._who(),
            child=child,
            first_name=row.first_name,
            last_name=row.last_name,
            birth_date=row.birth_date,
            # A row without a member number keeps the one the child has.
            external_id=row.external_id or child.external_id,
            groups=None if row.groups is None else [self.group(name) for name in row.groups],
            actor=self.actor,
            origin=self.origin,
        )
        self.link_guardians(child, row)


def apply_import(
    *,
    session: Session,
    organisation: Organisation,
    plan: ImportPlan,
    actor: User,
    origin: audit.Origin,
) -> ImportResult:
    """Apply the valid rows of a plan, skip the rows with errors, and audit the import once."""
    existing = _load(session, organisation, [p.row for p in plan.rows])
    applier = _Applier(
        session,
        organisation,
        actor,
        origin,
        groups=existing.groups,
        users=existing.users,
    )
    done = {Action.CREATE: 0, Action.UPDATE: 0}
    skipped = [p for p in plan.rows if p.action is Action.ERROR]
    for planned in plan.rows:
        if planned.action not in done:
            continue
        try:
            if planned.action is Action.CREATE:
                applier.create(planned.row)
            else:
                child = people.get_child(
                    session=session, organisation=organisation, child_id=planned.child_id or 0
                )
                assert child is not None
                applier.update(child, planned.row)
        except people.PeopleError as error:
            # The services check before they write, so a refused row leaves nothing behind.
            problems = tuple(message(text) for text in error.messages)
            skipped.append(replace(planned, action=Action.ERROR, errors=problems))
            continue
        done[planned.action] += 1
    result = ImportResult(
        created=done[Action.CREATE],
        updated=done[Action.UPDATE],
        unchanged=plan.count(Action.UNCHANGED),
        skipped=tuple(sorted(skipped, key=lambda p: p.row.line)),
        groups_created=tuple(applier.groups_created),
        accounts_created=applier.accounts_created,
        confirmations_requested=applier.confirmations_requested,
    )
    audit.record(
        session=session,
        action="people.import",
        organisation_id=organisation.id,
        actor_id=actor.id,
        details={
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "skipped": len(result.skipped),
            "groups_created": len(result.groups_created),
            "accounts_created": result.accounts_created,
            "confirmations_requested": result.confirmations_requested,
        },
        origin=origin,
    )
    return result
