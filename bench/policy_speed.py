"""How fast is the consent policy, alone and with the decision log read from a real database?

Prints figures; asserts nothing. Run with `make bench`, or
`.venv/bin/python bench/policy_speed.py [--postgres]` (a throw-away database on 127.0.0.1:5432).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

VAR = Path(tempfile.mkdtemp(prefix="consentlens-bench-"))
os.environ["CONSENTLENS_VAR_DIR"] = str(VAR)

from sqlmodel import Session

from consentlens import wiring
from consentlens.auth import service as accounts
from consentlens.consent import service as consent
from consentlens.consent.policy import (
    ConsentRules,
    DecisionRecord,
    Party,
    effective_consent,
)
from consentlens.core.db import make_engine
from consentlens.db import migrate
from consentlens.organisations import service as organisations
from consentlens.people import children as child_service
from consentlens.people import guardianships

CHILDREN = 300
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def pure_policy(runs: int = 50_000) -> float:
    until = NOW + timedelta(days=200)
    log = [
        DecisionRecord(1, Party.GUARDIAN, True, NOW - timedelta(days=9), until, 1, "A"),
        DecisionRecord(2, Party.GUARDIAN, True, NOW - timedelta(days=8), until, 2, "B"),
        DecisionRecord(3, Party.CHILD, False, NOW - timedelta(days=2), until),
    ]
    rules = ConsentRules()
    start = time.perf_counter()
    for _ in range(runs):
        effective_consent(
            use="website",
            birth_date=date(2013, 1, 1),
            guardian_ids={1, 2},
            decisions=log,
            rules=rules,
            now=NOW,
        )
    return (time.perf_counter() - start) / runs


def seeded_database(url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    rng = random.Random(7)
    with Session(engine) as session:
        org = organisations.create_organisation(
            session=session, name="Bench club", today=NOW.date()
        )
        uses = consent.list_uses(session=session, organisation=org)
        for n in range(CHILDREN):
            parents = [
                accounts.create_user(
                    session=session, email=f"p{n}-{k}@bench.test", full_name=f"Parent {n}-{k}"
                )
                for k in range(rng.choice((1, 2)))
            ]
            kid = child_service.create_child(
                session=session,
                organisation=org,
                first_name=f"Kid{n}",
                last_name="Bench",
                birth_date=date(2010 + n % 10, 1 + n % 12, 1),
            )
            for parent in parents:
                guardianships.create_guardianship(
                    session=session, organisation=org, child=kid, user=parent
                )
                for use in uses:
                    consent.record_decision(
                        session=session,
                        organisation=org,
                        child=kid,
                        use=use,
                        granted=rng.random() < 0.8,
                        method="online",
                        now=NOW,
                        guardian=parent,
                    )
        session.commit()
    engine.dispose()


def matrix_times(url: str, runs: int = 20) -> list[float]:
    from sqlmodel import select

    from consentlens.organisations.models import Organisation

    engine = make_engine(url)
    times = []
    with Session(engine) as session:
        org = session.exec(select(Organisation)).one()
        for _ in range(runs):
            start = time.perf_counter()
            children = child_service.list_children(session=session, organisation=org)
            uses = consent.list_uses(session=session, organisation=org)
            consent.effective_consents(
                session=session, organisation=org, children=children, uses=uses, now=NOW
            )
            times.append(time.perf_counter() - start)
    engine.dispose()
    return times


@contextmanager
def database(postgres: bool) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{VAR / 'bench.db'}"
        return
    import psycopg

    name = f"consentlens_bench_{uuid.uuid4().hex[:8]}"
    admin_dsn = "host=127.0.0.1 user=postgres dbname=postgres"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    # Organisations get their default uses, and consent news its listeners, only when wired.
    wiring.install_process()
    per_call = pure_policy()
    print(
        f"pure policy: {per_call * 1e6:.1f} µs per effective_consent "
        f"({1 / per_call:,.0f} per second)"
    )
    with database("--postgres" in sys.argv) as url:
        seeded_database(url)
        times = matrix_times(url)
    cells = CHILDREN * 6
    print(
        f"consent matrix, {CHILDREN} children x 6 uses ({cells} cells) from {url.split(':')[0]}: "
        f"median {statistics.median(times) * 1000:.1f} ms, "
        f"p95 {sorted(times)[int(len(times) * 0.95) - 1] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
