"""The `consentlens` command, run as a user runs it, on fresh SQLite and PostgreSQL databases."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from consentlens.consent import service as consent
from consentlens.consent.models import ConsentDecision
from consentlens.consent.policy import ConsentState
from consentlens.core.db import make_engine
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child, Group
from tests.conftest import _postgres_database

CLI = [sys.executable, "-m", "consentlens.cli"]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.db'}"
    else:
        yield from _postgres_database()


def run(url: str, var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONSENTLENS_DATABASE_URL": url, "CONSENTLENS_VAR_DIR": str(var)}
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def counts(url: str) -> tuple[int, int, int, int]:
    engine = make_engine(url)
    with Session(engine) as session:
        result = tuple(
            session.exec(select(func.count()).select_from(model)).one()
            for model in (Organisation, Group, Child, ConsentDecision)
        )
    engine.dispose()
    return result  # type: ignore[return-value]


def test_migrate_then_demo_is_idempotent_and_realistic(fresh_database, tmp_path):
    assert run(fresh_database, tmp_path, "migrate").returncode == 0
    first = run(fresh_database, tmp_path, "demo", "--if-empty")
    assert first.returncode == 0, first.stderr
    assert "admin@demo.consentlens.test" in first.stdout and "password:" in first.stdout
    seeded = counts(fresh_database)
    assert seeded[:3] == (1, 2, 8)
    again = run(fresh_database, tmp_path, "demo")
    assert again.returncode == 0 and counts(fresh_database) == seeded

    engine = make_engine(fresh_database)
    with Session(engine) as session:
        club = session.exec(select(Organisation)).one()
        children = session.exec(select(Child)).all()
        uses = consent.list_uses(session=session, organisation=club)
        states = consent.effective_consents(
            session=session, organisation=club, children=children, uses=uses, now=datetime.now(UTC)
        )
    engine.dispose()
    seen = {effective.state for effective in states.values()}
    assert {
        ConsentState.GRANTED,
        ConsentState.REFUSED,
        ConsentState.WAITING,
        ConsentState.NO_ANSWER,
    } <= seen
    names = {child.full_name for child in children}
    assert "Łukasz Kowalski" in names and "Zoë Vermeulen" in names


def test_create_admin_creates_the_organisation_and_can_sign_in(fresh_database, tmp_path):
    assert run(fresh_database, tmp_path, "migrate").returncode == 0
    done = run(
        fresh_database,
        tmp_path,
        "create-admin",
        "--email",
        "Chair@Club.test",
        "--password",
        "a-long-password",
        "--organisation",
        "Turnkring Sint-Pieter",
    )
    assert done.returncode == 0, done.stderr
    assert "chair@club.test is an admin of Turnkring Sint-Pieter" in done.stdout
    # Running it again for the same person is fine; a short password is refused clearly.
    assert (
        run(
            fresh_database,
            tmp_path,
            "create-admin",
            "--email",
            "chair@club.test",
            "--password",
            "another-long-one",
            "--organisation",
            "turnkring-sint-pieter",
        ).returncode
        == 0
    )
    short = run(
        fresh_database,
        tmp_path,
        "create-admin",
        "--email",
        "x@club.test",
        "--password",
        "short",
        "--organisation",
        "Turnkring Sint-Pieter",
    )
    assert short.returncode == 2
    assert "at least 10 characters" in short.stderr
    assert counts(fresh_database)[0] == 1


def test_demo_if_empty_leaves_a_real_club_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'real.db'}"
    assert run(url, tmp_path, "migrate").returncode == 0
    assert (
        run(
            url,
            tmp_path,
            "create-admin",
            "--email",
            "a@b.test",
            "--password",
            "0123456789ab",
            "--organisation",
            "Real Club",
        ).returncode
        == 0
    )
    result = run(url, tmp_path, "demo", "--if-empty")
    assert result.returncode == 0 and "no demo club added" in result.stdout
    assert counts(url)[0] == 1
