"""Scale-out figures: photos/s of the embedded default vs procrastinate workers on PostgreSQL,
queue latency, and re-judging 1,000 photos after a consent withdrawal.

Prints figures; asserts nothing. `.venv/bin/python bench/scale.py [--photos 40]`.

1. Throughput: the same `--photos` distinct uploads (the shared photos, each file made unique by
   bytes after its end) analysed by real `consentlens worker` processes: the embedded engine on
   SQLite with 1 and 2 analysis processes, then procrastinate on the machine's PostgreSQL with one
   worker of 1 process and two workers of 1 process each. Each run gets a fresh installation; the
   rate is counted from the first analysed photo to the last (start-up, the model load, apart).
2. Queue latency on an idle procrastinate worker: 20 uploads, one every 0.5 s; enqueue → start
   from procrastinate's own events (p50/p95).
3. Re-judging: a child identified in 1,000 photos (rows made directly: no analysis needed), the
   guardian withdraws the website consent; the time of that transaction, which re-judges every
   photo before it commits (target < 5 s).
Storage here is the local folder (object storage is not in place yet).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

VAR = Path(tempfile.mkdtemp(prefix="consentlens-scale-"))
os.environ["CONSENTLENS_VAR_DIR"] = str(VAR / "bench")
os.environ["CONSENTLENS_RUN_WORKER"] = "false"
for _name in ("CONSENTLENS_DATABASE_URL", "CONSENTLENS_MEDIA_DIR", "CONSENTLENS_JOBS"):
    os.environ.pop(_name, None)

import argparse
import io
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date

import psycopg
from sqlmodel import Session, col, select

from consentlens import wiring
from consentlens.auth import service as accounts
from consentlens.auth.models import Role, User
from consentlens.consent import service as consent
from consentlens.core.config import get_settings
from consentlens.core.db import make_engine
from consentlens.core.tables import utcnow
from consentlens.db import migrate
from consentlens.faces.models import Face, FaceState
from consentlens.jobs import distributed
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people import guardianships
from consentlens.photos import service
from consentlens.photos.models import Event, Photo, PhotoStatus

FACES = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "faces"
CLI = Path(sys.executable).parent / "consentlens"
ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DONE = (PhotoStatus.READY.value, PhotoStatus.NEEDS_REVIEW.value, PhotoStatus.FAILED.value)


def sources() -> list[Path]:
    return sorted(p for p in FACES.glob("*/*") if p.suffix.lower() in {".jpg", ".jpeg"})


class Installation:
    """A throw-away installation: its database, its folder, the environment of its workers."""

    def __init__(self, *, postgres: bool) -> None:
        self.root = Path(tempfile.mkdtemp(dir=VAR))
        self.database = f"consentlens_scale_{uuid.uuid4().hex[:8]}" if postgres else None
        if self.database:
            with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self.database}"')
            self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.database}"
        else:
            self.url = f"sqlite:///{self.root / 'consentlens.db'}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CONSENTLENS_")},
            "CONSENTLENS_VAR_DIR": str(self.root),
            "CONSENTLENS_DATABASE_URL": self.url,
            "CONSENTLENS_JOBS": "procrastinate" if postgres else "embedded",
            "CONSENTLENS_JOB_UPKEEP_SECONDS": "5",
        }
        # This process uploads into it and sends the jobs: the same settings.
        os.environ.update(self.env)
        get_settings.cache_clear()
        migrate.upgrade(self.url)
        self.engine = make_engine(self.url)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.ids = (0, 0, 0)

    def club(self) -> tuple[int, int, int]:
        """(organisation, event, staff) ids."""
        with Session(self.engine) as session:
            organisation = organisations.create_organisation(
                session=session, name="Scale club", today=utcnow().date()
            )
            staff = accounts.create_user(session=session, email="s@scale.test", full_name="S")
            accounts.add_membership(
                session=session, user=staff, organisation=organisation, role=Role.STAFF
            )
            event = service.create_event(
                session=session,
                organisation=organisation,
                name="Match",
                event_date=date(2026, 12, 5),
                group_ids=[],
                user=staff,
            )
            session.commit()
            assert organisation.id and event.id and staff.id
            return organisation.id, event.id, staff.id

    def upload(self, count: int, *, salt: int = 0) -> list[int]:
        organisation_id, event_id, staff_id = self.ids
        files = sources()
        ids = []
        with Session(self.engine) as session:
            for n in range(count):
                data = files[n % len(files)].read_bytes() + b"\0" * (n + 1 + salt)
                result = service.add_upload(
                    session=session,
                    organisation=session.get(Organisation, organisation_id),
                    event=session.get(Event, event_id),
                    source=io.BytesIO(data),
                    filename=f"photo_{salt}_{n}.jpg",
                    user=session.get(User, staff_id),
                )
                assert result.photo is not None and result.photo.id is not None
                ids.append(result.photo.id)
            session.commit()
        return ids

    def start_workers(self, workers: int, processes: int) -> None:
        env = {**self.env, "CONSENTLENS_WORKER_PROCESSES": str(processes)}
        for _ in range(workers):
            self.workers.append(
                subprocess.Popen(
                    [CLI, "worker"],
                    env=env,
                    start_new_session=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    def analysed_at(self, ids: list[int]) -> list[float]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(Photo.analysed_at).where(col(Photo.id).in_(ids), col(Photo.status).in_(DONE))
            ).all()
        return sorted(moment.timestamp() for moment in rows if moment is not None)

    def wait(self, ids: list[int], timeout: float = 900) -> list[float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.analysed_at(ids)
            if len(done) == len(ids):
                return done
            time.sleep(0.2)
        raise TimeoutError("the photos were not analysed in time")

    def close(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in self.workers:
            worker.wait(60)
        distributed.close_sender()
        self.engine.dispose()
        if self.database:
            with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def throughput(*, postgres: bool, workers: int, processes: int, photos: int) -> str:
    installation = Installation(postgres=postgres)
    try:
        installation.ids = installation.club()
        ids = installation.upload(photos)
        started = time.monotonic()
        installation.start_workers(workers, processes)
        done = installation.wait(ids)
        total = time.monotonic() - started
        span = done[-1] - done[0]
        rate = (len(done) - 1) / span if span > 0 else float("nan")
        return f"{rate:6.2f} photos/s after the first ({total:5.1f} s for {photos}, start-up incl.)"
    finally:
        installation.close()


def latency(photos: int = 20) -> str:
    installation = Installation(postgres=True)
    try:
        installation.ids = installation.club()
        installation.start_workers(1, 2)
        warm = installation.upload(1, salt=999)
        installation.wait(warm)  # the models are loaded
        ids = []
        for n in range(photos):
            ids += installation.upload(1, salt=n)
            time.sleep(0.5)
        installation.wait(ids)
        with psycopg.connect(distributed.conninfo(installation.url)) as connection:
            rows = connection.execute(
                "SELECT extract(epoch FROM s.at - d.at) FROM procrastinate_events d "
                "JOIN procrastinate_events s ON s.job_id = d.job_id AND s.type = 'started' "
                "JOIN procrastinate_jobs j ON j.id = d.job_id "
                "WHERE d.type = 'deferred' AND j.task_name = %s",
                (service.ANALYSIS_TASK,),
            ).fetchall()
        waits = sorted(float(row[0]) * 1000 for row in rows)
        p95 = waits[min(len(waits) - 1, int(0.95 * len(waits)))]
        return f"p50 {statistics.median(waits):6.1f} ms, p95 {p95:6.1f} ms ({len(waits)} jobs)"
    finally:
        installation.close()


def rejudge(photos: int = 1000) -> str:
    installation = Installation(postgres=True)
    try:
        with Session(installation.engine) as session:
            organisation = organisations.create_organisation(
                session=session, name="Rejudge club", today=utcnow().date()
            )
            guardian = accounts.create_user(session=session, email="p@scale.test", full_name="P")
            accounts.add_membership(
                session=session, user=guardian, organisation=organisation, role=Role.GUARDIAN
            )
            child = child_service.create_child(
                session=session,
                organisation=organisation,
                first_name="Lotte",
                last_name="Peeters",
                birth_date=date(2016, 5, 1),
            )
            guardianships.create_guardianship(
                session=session, organisation=organisation, child=child, user=guardian
            )
            uses = consent.list_uses(session=session, organisation=organisation)
            for use in uses:
                consent.record_decision(
                    session=session,
                    organisation=organisation,
                    child=child,
                    use=use,
                    granted=True,
                    method="online",
                    now=utcnow(),
                    guardian=guardian,
                )
            staff = accounts.create_user(session=session, email="t@scale.test", full_name="T")
            event = service.create_event(
                session=session,
                organisation=organisation,
                name="Season",
                event_date=date(2026, 12, 5),
                group_ids=[],
                user=staff,
            )
            for n in range(photos):
                photo = Photo(
                    organisation_id=organisation.id,
                    event_id=event.id,
                    original_ref=f"originals/none/{n}.jpg",
                    sha256=f"{n:064x}",
                    byte_size=1,
                    media_type="image/jpeg",
                    status=PhotoStatus.READY.value,
                    width=1000,
                    height=800,
                    analysed_at=utcnow(),
                )
                session.add(photo)
                session.flush()
                session.add(
                    Face(
                        photo_id=photo.id,
                        x=100,
                        y=100,
                        w=120,
                        h=120,
                        state=FaceState.CONFIRMED.value,
                        child_id=child.id,
                    )
                )
            session.commit()
            website = next(use for use in uses if use.code == "website")
            started = time.perf_counter()
            consent.record_decision(
                session=session,
                organisation=organisation,
                child=child,
                use=website,
                granted=False,
                method="online",
                now=utcnow(),
                guardian=guardian,
            )
            session.commit()
            took = time.perf_counter() - started
        return f"{took:6.2f} s for {photos} photos (target < 5 s)"
    finally:
        installation.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=40)
    arguments = parser.parse_args()
    wiring.install_process()
    n = arguments.photos
    print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores")
    try:
        runs = {
            "embedded, SQLite, 1 process": (False, 1, 1),
            "embedded, SQLite, 2 processes": (False, 1, 2),
            "procrastinate, 1 worker × 1": (True, 1, 1),
            "procrastinate, 2 workers × 1": (True, 2, 1),
        }
        for label, (postgres, workers, processes) in runs.items():
            figure = throughput(postgres=postgres, workers=workers, processes=processes, photos=n)
            print(f"{label:<32} {figure}")
        print(f"{'queue latency, idle worker':<32} {latency()}")
        print(f"{'re-judging after a withdrawal':<32} {rejudge()}")
    finally:
        shutil.rmtree(VAR, ignore_errors=True)


if __name__ == "__main__":
    main()
