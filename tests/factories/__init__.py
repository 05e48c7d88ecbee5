"""Factories: build real rows through the real services, with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import date

from sqlmodel import Session

from consentlens.auth import service as accounts
from consentlens.auth.models import Role, User
from consentlens.people import service as people
from consentlens.people.models import Child, Group, Organisation

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def organisation(
    session: Session, *, name: str | None = None, today: date | None = None
) -> Organisation:
    n = next(_counter)
    return people.create_organisation(
        session=session,
        name=name or f"Club {n}",
        slug=f"club-{n}-{id(session)}",
        today=today or date(2026, 11, 24),
    )


def user(
    session: Session,
    org: Organisation,
    role: Role,
    *,
    name: str | None = None,
    password: str | None = PASSWORD,
    locale: str | None = None,
) -> User:
    n = next(_counter)
    account = accounts.create_user(
        session=session,
        email=f"{role.value}{n}@example.test",
        full_name=name or f"{role.value.title()} {n}",
        password=password,
        locale=locale,
    )
    accounts.add_membership(session=session, user=account, organisation=org, role=role)
    return account


def group(session: Session, org: Organisation, name: str | None = None) -> Group:
    return people.create_group(
        session=session, organisation=org, name=name or f"Team {next(_counter)}"
    )


def child(
    session: Session,
    org: Organisation,
    *,
    birth_date: date = date(2016, 5, 1),
    guardians: tuple[User, ...] = (),
    first_name: str | None = None,
    last_name: str = "Peeters",
) -> Child:
    kid = people.create_child(
        session=session,
        organisation=org,
        first_name=first_name or f"Kid{next(_counter)}",
        last_name=last_name,
        birth_date=birth_date,
    )
    for guardian in guardians:
        # The state after the account holder confirmed (a guardian at two clubs included);
        # the confirmation itself is tested in tests/people/test_guardian_requests.py.
        people.create_guardianship(session=session, organisation=org, child=kid, user=guardian)
    return kid
