"""The distributed engine on real PostgreSQL with real `consentlens worker` processes.

Two workers share the photos of two organisations; one is killed with SIGKILL mid-photo and the
other finishes its work, with the same faces the embedded path finds; a job lost between commit
and send is found by the sweep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlmodel import Session, col, select

from consentlens import health
from consentlens.core.config import get_settings
from consentlens.core.db import make_engine
from consentlens.core.tables import utcnow
from consentlens.db import migrate
from consentlens.faces import processing, verdicts
from consentlens.faces.models import Face, FaceState, StoredVerdict
from consentlens.jobs import distributed, queue
from consentlens.organisations.models import Organisation
from consentlens.photos import storage
from consentlens.photos.models import Photo, PhotoStatus
from tests.conftest import _postgres_database
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos
from tests.factories.photos import FACES
from tests.jobs.test_worker import statuses, twelve_megapixel_copies, wait_for

CLI = Path(sys.executable).parent / "consentlens"
DONE = {PhotoStatus.READY.value, PhotoStatus.NEEDS_REVIEW.value}
SOURCES = sorted(
    path.relative_to(FACES).as_posix()
    for path in FACES.glob("*/*")
    if path.suffix.lower() in {".jpg", ".jpeg"}
)


def distinct_copies(directory: Path, count: int, *, offset: int) -> list[Path]:
    """`count` different files of the shared photos: the same pixels, different bytes."""
    paths = []
    for n in range(count):
        source = FACES / SOURCES[(n + offset) % len(SOURCES)]
        path = directory / f"copy_{offset}_{n}{source.suffix}"
        # Bytes after the JPEG's end change the file (no duplicate), not the picture.
        path.write_bytes(source.read_bytes() + b"\0" * (n + 1 + offset * 100))
        paths.append(path)
    return paths


def build_clubs(session: Session, directory: Path, per_club: int, large: int = 0) -> dict[int, str]:
    """Two organisations, each with Obama enrolled and `per_club` uploads; photo id → file name."""
    names: dict[int, str] = {}
    for number in range(2):
        c = make_photos.club(session)
        make_consent.grant_all(session, c.org, c.obama, c.guardian)
        make_photos.enroll(session, c.org, c.obama, "portraits/obama_1.jpg")
        ev = make_photos.event(session, c)
        files = distinct_copies(directory, per_club, offset=number)
        if number == 0 and large:
            # Slow enough to be caught mid-analysis: claimed first, killed with its worker.
            files[:large] = twelve_megapixel_copies(directory, large)
        for photo, path in zip(make_photos.upload(session, c, ev, files), files, strict=True):
            assert photo.id is not None
            names[photo.id] = f"{number}/{path.name}"
        session.commit()
    return names


def faces_by_file(engine, names: dict[int, str]) -> dict[str, list[tuple]]:
    """What each photo's analysis stored, in a form two installations can compare."""
    with Session(engine) as session:
        result: dict[str, list[tuple]] = {}
        for photo_id, name in names.items():
            faces = session.exec(
                select(Face).where(Face.photo_id == photo_id).order_by(col(Face.x), col(Face.y))
            ).all()
            result[name] = [(f.x, f.y, f.w, f.h, f.state, f.child_id is not None) for f in faces]
        return result


@pytest.fixture
def installation(tmp_path, monkeypatch) -> Iterator[dict]:
    """A PostgreSQL installation on procrastinate: its URL and the environment of its workers."""
    generator = _postgres_database()
    url = next(generator)
    migrate.upgrade(url)
    env = {
        **os.environ,
        "CONSENTLENS_DATABASE_URL": url,
        "CONSENTLENS_VAR_DIR": str(tmp_path / "var"),
        # Share this test process's media directory, where the uploads are stored.
        "CONSENTLENS_MEDIA_DIR": str(storage.media_root()),
        "CONSENTLENS_JOBS": "procrastinate",
        "CONSENTLENS_WORKER_PROCESSES": "1",
        "CONSENTLENS_JOB_HEARTBEAT_SECONDS": "1",
        "CONSENTLENS_JOB_STALLED_SECONDS": "4",
        "CONSENTLENS_JOB_UPKEEP_SECONDS": "2",
    }
    # This process sends the jobs of its uploads to the same queue.
    monkeypatch.setenv("CONSENTLENS_DATABASE_URL", url)
    monkeypatch.setenv("CONSENTLENS_JOBS", "procrastinate")
    get_settings.cache_clear()
    engine = make_engine(url)
    started: list[subprocess.Popen] = []

    def start_worker(**extra_env: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [CLI, "worker"],
            env={**env, **extra_env},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"worker{len(started)}.log").open("w"),
        )
        started.append(process)
        return process

    try:
        yield {"url": url, "engine": engine, "start_worker": start_worker, "tmp": tmp_path}
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        distributed.close_sender()
        engine.dispose()
        generator.close()
        monkeypatch.undo()
        get_settings.cache_clear()


def jobs(url: str, *statuses: str, task: str = processing.ANALYSIS_TASK) -> list[tuple[str, str]]:
    with psycopg.connect(distributed.conninfo(url)) as connection:
        rows = connection.execute(
            "SELECT args->>'argument', status::text FROM procrastinate_jobs "
            "WHERE task_name = %s AND status::text = ANY(%s)",
            (task, list(statuses)),
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (no init reaps it in every container)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_two_workers_share_the_photos_and_one_killed_mid_photo_loses_nothing(installation):
    engine, url = installation["engine"], installation["url"]
    with Session(engine) as session:
        names = build_clubs(session, installation["tmp"], per_club=20, large=2)
    assert len(names) == 40
    # Every upload sent its job after its commit.
    assert sorted(argument for argument, _ in jobs(url, "todo")) == sorted(map(str, names))

    first = installation["start_worker"]()
    wait_for(
        lambda: PhotoStatus.PROCESSING.value in statuses(engine).values(),
        timeout=120,
        what="the first worker to claim a photo",
    )
    (victim,) = [i for i, s in statuses(engine).items() if s == PhotoStatus.PROCESSING.value]
    installation["start_worker"]()
    pool = children_of(first.pid)
    assert pool  # its analysis process (and multiprocessing's resource tracker)
    assert statuses(engine)[victim] == PhotoStatus.PROCESSING.value  # still mid-photo
    # Only the worker's own process: its analysis process must notice and stop by itself.
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)

    wait_for(
        lambda: set(statuses(engine).values()) <= DONE,
        timeout=240,
        what="the other worker to analyse every photo, the killed one's included",
    )
    wait_for(lambda: not jobs(url, "todo", "doing"), timeout=30, what="an empty queue")
    wait_for(
        lambda: not any(running(pid) for pid in pool),
        timeout=10,
        what="the killed worker's analysis process to end",
    )
    with Session(engine) as session:
        photo = session.get(Photo, victim)
        assert photo is not None and photo.attempts == 1  # the killed attempt is not counted
    # The killed worker's job is on record as failed; a new one did the photo.
    assert (str(victim), "failed") in jobs(url, "failed")

    # The same photos through the embedded path, on SQLite: the same faces, identified alike.
    reference_engine = make_engine(f"sqlite:///{installation['tmp'] / 'reference.db'}")
    migrate.upgrade(str(reference_engine.url))
    queue.install_sender(lambda task, argument: None, distributed=lambda: False)
    try:
        with Session(reference_engine) as session:
            again = installation["tmp"] / "again"
            again.mkdir()
            reference_names = build_clubs(session, again, per_club=20, large=2)
            while processing.process_next(session=session) is not None:
                pass
    finally:
        from consentlens import wiring

        queue.install_sender(wiring.send_job, distributed=wiring.jobs_are_distributed)
    expected = faces_by_file(reference_engine, reference_names)
    stored = faces_by_file(engine, names)
    assert stored == expected
    assert sum(len(faces) for faces in stored.values()) > 40
    reference_engine.dispose()


def test_a_job_lost_between_commit_and_send_is_sent_by_the_sweep(installation, monkeypatch):
    engine, url = installation["engine"], installation["url"]

    def lost(task: str, argument: str) -> None:
        raise ConnectionError("the process died before it could send the job")

    from consentlens import wiring

    queue.install_sender(lost, distributed=wiring.jobs_are_distributed)
    try:
        with Session(engine) as session:
            names = build_clubs(session, installation["tmp"], per_club=2)
    finally:
        queue.install_sender(wiring.send_job, distributed=wiring.jobs_are_distributed)
    assert jobs(url, "todo", "doing") == []  # committed, never sent
    assert set(statuses(engine).values()) == {PhotoStatus.PENDING.value}
    with Session(engine) as session:
        report = health.queue_report(session=session)
    assert report == {
        "status": "ok",
        "engine": "procrastinate",
        "photos_waiting": 4,
        "waiting": 0,
        "running": 0,
    }

    installation["start_worker"]()
    wait_for(
        lambda: set(statuses(engine).values()) <= DONE,
        timeout=120,
        what="the sweep to send the lost jobs and the worker to run them",
    )
    assert len(names) == 4


def test_a_withdrawal_for_a_child_in_1000_photos_rejudges_them_all_and_renders_by_jobs(
    installation,
):
    engine, url = installation["engine"], installation["url"]
    with Session(engine) as session:
        c = make_photos.club(session)
        make_consent.grant_all(session, c.org, c.obama, c.guardian)
        make_photos.enroll(session, c.org, c.obama, "portraits/obama_1.jpg")
        ev = make_photos.event(session, c)
        (real,) = make_photos.upload(session, c, ev, ["portraits/obama_2.jpg"])
        session.commit()
        processing.process_next(session=session)  # analysed here: Obama identified
        session.refresh(real)
        assert real.status == PhotoStatus.READY.value
        # 1,000 more photos in which Obama is named (rows only: their files play no part).
        for n in range(1000):
            photo = Photo(
                organisation_id=c.org.id,
                event_id=ev.id,
                sha256=f"{n:064x}",
                original_ref=f"originals/{c.org.id}/xx/{n:064x}.jpg",
                media_type="image/jpeg",
                byte_size=1,
                width=800,
                height=600,
                status=PhotoStatus.READY.value,
                analysed_at=utcnow(),
            )
            session.add(photo)
            session.flush()
            session.add(
                Face(
                    photo_id=photo.id,
                    x=100,
                    y=100,
                    w=150,
                    h=150,
                    state=FaceState.CONFIRMED.value,
                    child_id=c.obama.id,
                )
            )
        session.flush()
        ids = verdicts.photos_showing(session=session, child_id=c.obama.id)
        verdicts.refresh(session=session, organisation=c.org, photo_ids=ids, now=utcnow())
        session.commit()
        assert len(ids) == 1001
        assert website_actions(session, ids) == {"show"}
        before = {p.name for p in storage.derivative_dir(real.id).iterdir()}
        assert before  # the analysis rendered it
        # A rendering of a verdict no longer in force (say, from before a re-analysis).
        (storage.derivative_dir(real.id) / "display-0000stale0000.jpg").write_bytes(b"old")

        make_consent.decide(session, c.org, c.obama, c.guardian, {"website": False})
        session.commit()
        # Judged again before the withdrawal committed: no request can see the old verdicts.
        assert website_actions(session, ids) == {"blur"}
        organisation_id, real_id = c.org.id, real.id
    # The renderings follow by jobs, one per photo.
    queued = {argument for argument, _ in jobs(url, "todo", task=verdicts.RENDER_TASK)}
    assert queued == {str(photo_id) for photo_id in ids}

    installation["start_worker"]()
    wait_for(
        lambda: (str(real_id), "succeeded") in jobs(url, "succeeded", task=verdicts.RENDER_TASK),
        timeout=120,
        what="the render job of the analysed photo",
    )
    with Session(engine) as session:
        photo = session.get(Photo, real_id)
        organisation = session.get(Organisation, organisation_id)
        (evaluation,) = verdicts.evaluate(
            session=session, organisation=organisation, photos=[photo], now=utcnow()
        )
        current = verdicts.current_derivatives(evaluation=evaluation, organisation=organisation)
    after = {p.name for p in storage.derivative_dir(real_id).iterdir()}
    # Only current renderings are left, the blurred website ones made ahead of any request.
    assert after <= current
    assert "display-0000stale0000.jpg" not in after
    assert after - before


def website_actions(session: Session, ids: list[int]) -> set[str]:
    return set(
        session.exec(
            select(StoredVerdict.action).where(
                col(StoredVerdict.photo_id).in_(ids), StoredVerdict.use_code == "website"
            )
        )
    )
