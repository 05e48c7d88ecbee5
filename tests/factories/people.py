"""Factories for organisations, accounts, groups and children, through the real services."""

from __future__ import annotations

import itertools
from datetime import date

from sqlmodel import Session

from consentlens.auth import service as accounts
from consentlens.auth.models import Role, User
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people import groups as group_service
from consentlens.people import guardianships, import_service
from consentlens.people.models import Child, Group

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def organisation(
    session: Session, *, name: str | None = None, today: date | None = None
) -> Organisation:
    n = next(_counter)
    return organisations.create_organisation(
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
    return group_service.create_group(
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
    kid = child_service.create_child(
        session=session,
        organisation=org,
        first_name=first_name or f"Kid{next(_counter)}",
        last_name=last_name,
        birth_date=birth_date,
    )
    for guardian in guardians:
        # The state after the account holder confirmed (a guardian at two clubs included);
        # the confirmation itself is tested in tests/people/test_guardian_requests.py.
        guardianships.create_guardianship(
            session=session, organisation=org, child=kid, user=guardian
        )
    return kid


HEADER = (
    "lidnummer;voornaam;achternaam;geboortedatum;groep;"
    "ouder1_naam;ouder1_email;ouder2_naam;ouder2_email"
)


def csv_bytes(*lines: str, encoding: str = "utf-8", sep: str = ";") -> bytes:
    text = "\r\n".join(lines) + "\r\n"
    return (text.replace(";", sep) if sep != ";" else text).encode(encoding)


def plan(db, org, data: bytes) -> import_service.ImportPlan:
    parsed = import_service.parse_upload(organisation=org, data=data)
    assert parsed.problems == ()
    return import_service.plan_import(session=db, organisation=org, rows=parsed.rows)
