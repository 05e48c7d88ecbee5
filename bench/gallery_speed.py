"""How fast do gallery pages list with 10,000 photos in the organisation? Target: p95 < 50 ms.

Seeds a throw-away database (SQLite file, or PostgreSQL with --postgres) with 10,000 analysed
photos in 100 events of 10 groups, faces and stored verdicts, then times the queries behind the
guardian's event page, the guardian's "my child" page and the staff gallery with filters, over
first pages and deep pages. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

VAR = Path(tempfile.mkdtemp(prefix="consentlens-bench-"))
os.environ["CONSENTLENS_VAR_DIR"] = str(VAR)
os.environ["CONSENTLENS_RUN_WORKER"] = "false"

from sqlalchemy import insert, text
from sqlmodel import Session, select

from consentlens import wiring
from consentlens.auth import service as accounts
from consentlens.auth.deps import Principal
from consentlens.auth.models import Role
from consentlens.core.db import make_engine
from consentlens.db import migrate
from consentlens.faces import verdicts
from consentlens.faces.models import Face, StoredVerdict
from consentlens.gallery import scopes as gallery
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people import groups as group_service
from consentlens.people import guardianships
from consentlens.people.models import Child
from consentlens.photos.models import Event, EventGroup, Photo

PHOTOS = 10_000
EVENTS = 100
GROUPS = 10
CHILDREN_PER_GROUP = 20
USES = ("internal_gallery", "website", "print", "social_media", "press")
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def seed(url: str) -> tuple[int, int, int, int]:
    """The organisation, a guardian, a staff member and the guardian's child."""
    rng = random.Random(7)
    engine = make_engine(url)
    with Session(engine) as session:
        org = organisations.create_organisation(
            session=session, name="Bench club", slug="bench", today=date(2026, 11, 24)
        )
        assert org.id is not None
        staff = accounts.create_user(
            session=session, email="staff@bench.test", full_name="Staff", password=None
        )
        accounts.add_membership(session=session, user=staff, organisation=org, role=Role.STAFF)
        guardian = accounts.create_user(
            session=session, email="parent@bench.test", full_name="Parent", password=None
        )
        accounts.add_membership(
            session=session, user=guardian, organisation=org, role=Role.GUARDIAN
        )
        groups = [
            group_service.create_group(session=session, organisation=org, name=f"U{8 + n}")
            for n in range(GROUPS)
        ]
        children = []
        for number, group in enumerate(groups):
            for n in range(CHILDREN_PER_GROUP):
                child = child_service.create_child(
                    session=session,
                    organisation=org,
                    first_name=f"Kid{number}-{n}",
                    last_name="Bench",
                    birth_date=date(2015, 1, 1),
                )
                child_service.set_child_groups(
                    session=session, organisation=org, child=child, groups=[group]
                )
                children.append((child.id, group.id))
        own_child = children[0][0]
        guardianships.create_guardianship(
            session=session,
            organisation=org,
            child=session.get(Child, own_child),
            user=guardian,
        )
        events = []
        for n in range(EVENTS):
            event = Event(
                organisation_id=org.id,
                name=f"Match {n}",
                event_date=date(2026, 11, 1) - timedelta(days=n * 3),
            )
            session.add(event)
            session.flush()
            group = groups[n % GROUPS]
            session.add(EventGroup(event_id=event.id, group_id=group.id))
            events.append((event.id, group.id))
        session.flush()
        group_children: dict[int, list[int]] = {}
        for child_id, group_id in children:
            group_children.setdefault(group_id, []).append(child_id)
        photos, faces, stored = [], [], []
        for n in range(PHOTOS):
            event_id, group_id = events[n % EVENTS]
            photo_id = n + 1
            photos.append(
                {
                    "id": photo_id,
                    "organisation_id": org.id,
                    "event_id": event_id,
                    "sha256": f"{n:064x}",
                    "original_ref": f"originals/bench/{n}.jpg",
                    "original_name": "",
                    "media_type": "image/jpeg",
                    "byte_size": 3_000_000,
                    "width": 4000,
                    "height": 3000,
                    "status": rng.choice(["ready"] * 8 + ["needs_review"] * 2),
                    "error": "",
                    "attempts": 1,
                    "uploaded_at": NOW,
                    "analysed_at": NOW,
                }
            )
            for k in range(rng.randint(1, 5)):
                faces.append(
                    {
                        "photo_id": photo_id,
                        "x": 100 * k,
                        "y": 100,
                        "w": 120,
                        "h": 120,
                        "score": 1.0,
                        "state": "identified",
                        "child_id": rng.choice(group_children[group_id]),
                        "match_reason": "",
                        "created_at": NOW,
                    }
                )
            for use in USES:
                stored.append(
                    {
                        "photo_id": photo_id,
                        "use_code": use,
                        "action": rng.choice(["show", "blur", "blur", "hide"]),
                        "reason": "bench",
                        "reason_params": {},
                        "faces_to_blur": [],
                        "face_reasons": [],
                        "evaluated_at": NOW,
                    }
                )
        session.execute(insert(Photo), photos)
        session.execute(insert(Face), faces)
        session.execute(insert(StoredVerdict), stored)
        session.commit()
        # What autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) does on a live database.
        session.execute(text("ANALYZE"))
        session.commit()
        result = (org.id, guardian.id, staff.id, own_child)
    engine.dispose()
    return result


def principal(session: Session, org_id: int, user_id: int, role: Role) -> Principal:
    user = session.get(accounts.User, user_id)
    organisation = session.get(Organisation, org_id)
    assert user is not None and organisation is not None
    return Principal(user=user, organisation=organisation, roles=frozenset({role}))


def timed(run: Callable[[], object], repeats: int = 40) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


@contextmanager
def database(postgres: bool) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{VAR / 'gallery.db'}"
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
    postgres = "--postgres" in sys.argv
    with database(postgres) as url:
        migrate.upgrade(url)
        started = time.perf_counter()
        org_id, guardian_id, staff_id, own_child = seed(url)
        print(
            f"Gallery listing, {'PostgreSQL' if postgres else 'SQLite'}: {PHOTOS} photos, "
            f"{EVENTS} events, seeded in {time.perf_counter() - started:.1f} s"
        )
        engine = make_engine(url)
        with Session(engine) as session:
            parent = principal(session, org_id, guardian_id, Role.GUARDIAN)
            staff = principal(session, org_id, staff_id, Role.STAFF)
            event_id = gallery.guardian_events(session=session, principal=parent)[0].id
            deep = session.exec(select(Photo.id).order_by(Photo.id).offset(300).limit(1)).one()
            cases: list[tuple[str, Callable[[], object]]] = [
                (
                    "guardian: event page 1",
                    lambda: gallery.guardian_photos(
                        session=session, principal=parent, event_id=event_id
                    ),
                ),
                (
                    "guardian: all events, page 1",
                    lambda: gallery.guardian_photos(session=session, principal=parent),
                ),
                (
                    "guardian: all events, deep page",
                    lambda: gallery.guardian_photos(session=session, principal=parent, before=deep),
                ),
                (
                    "guardian: my child",
                    lambda: gallery.guardian_photos(session=session, principal=parent, mine=True),
                ),
                (
                    "staff: everything, page 1",
                    lambda: gallery.staff_photos(session=session, principal=staff),
                ),
                (
                    "staff: deep page",
                    lambda: gallery.staff_photos(session=session, principal=staff, before=deep),
                ),
                (
                    "staff: needs review",
                    lambda: gallery.staff_photos(
                        session=session, principal=staff, show=gallery.StaffFilter.NEEDS_REVIEW
                    ),
                ),
                (
                    "staff: hidden from website",
                    lambda: gallery.staff_photos(
                        session=session,
                        principal=staff,
                        show=gallery.StaffFilter.HIDDEN_FROM_WEBSITE,
                    ),
                ),
                (
                    "staff: contains child",
                    lambda: gallery.staff_photos(
                        session=session, principal=staff, child_id=own_child
                    ),
                ),
                (
                    "staff: verdict chips for a page",
                    lambda: verdicts.verdict_summary(
                        session=session,
                        photo_ids=[
                            p.id
                            for p in gallery.staff_photos(session=session, principal=staff).photos
                        ],
                    ),
                ),
            ]
            print(f"{'page':<34} {'photos':>6} {'median ms':>10} {'p95 ms':>8}  target p95 < 50 ms")
            for label, run in cases:
                result = run()
                count = len(result.photos) if isinstance(result, gallery.Page) else len(result)
                times = timed(run)
                print(
                    f"{label:<34} {count:>6} {statistics.median(times):>10.1f} {p95(times):>8.1f}"
                )
        engine.dispose()


if __name__ == "__main__":
    main()
