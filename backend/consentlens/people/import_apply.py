"""Member import, second step: apply the valid rows of a plan through the people services."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.auth import service as accounts
from consentlens.auth.models import User
from consentlens.core.tables import utcnow
from consentlens.organisations.models import Organisation
from consentlens.people import children, groups, guardian_requests, import_rows
from consentlens.people.errors import PeopleError
from consentlens.people.import_rows import MemberRow, message
from consentlens.people.import_service import Action, ImportPlan, PlannedRow, load_existing
from consentlens.people.models import Child, Group, PendingGuardianship


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
    # (id, name) of the groups the new members joined: where to invite their parents next.
    groups_with_new_members: tuple[tuple[int, str], ...] = ()


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
    joined: dict[int, str] = field(default_factory=dict)

    def _who(self) -> dict[str, Any]:
        return {"session": self.session, "organisation": self.organisation}

    def group(self, name: str) -> Group:
        key = name.casefold()
        if key not in self.groups:
            group = groups.create_group(
                **self._who(), name=name, actor=self.actor, origin=self.origin
            )
            self.groups[key] = group
            self.groups_created.append(group.name)
        return self.groups[key]

    def user(self, guardian: import_rows.GuardianRow) -> User:
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
        child = children.create_child(
            **self._who(),
            first_name=row.first_name,
            last_name=row.last_name,
            birth_date=row.birth_date,
            groups=[self.group(name) for name in row.groups or ()],
            external_id=row.external_id,
            actor=self.actor,
            origin=self.origin,
        )
        for name in row.groups or ():
            group = self.group(name)
            assert group.id is not None
            self.joined[group.id] = group.name
        self.link_guardians(child, row)

    def update(self, child: Child, row: MemberRow) -> None:
        children.update_child(
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
    existing = load_existing(
        session=session, organisation=organisation, rows=[p.row for p in plan.rows]
    )
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
                child = children.get_child(
                    session=session, organisation=organisation, child_id=planned.child_id or 0
                )
                assert child is not None
                applier.update(child, planned.row)
        except PeopleError as error:
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
        groups_with_new_members=tuple(
            sorted(applier.joined.items(), key=lambda g: g[1].casefold())
        ),
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
