"""The worker is durable: a crash mid-photo loses nothing, and failures are recorded, not hidden."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlmodel import Session, col, select

from consentlens import maintenance
from consentlens.core.config import get_settings
from consentlens.core.db import SQLITE_BEGIN, make_engine
from consentlens.core.tables import utcnow
from consentlens.faces import analysis, processing, verdicts
from consentlens.faces.models import Face, ReferenceFace, StoredVerdict
from consentlens.organisations.models import Organisation
from consentlens.photos import service, storage
from consentlens.photos.models import Photo, PhotoStatus
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos
from tests.factories.photos import FACES

CLI = Path(sys.executable).parent / "consentlens"


def twelve_megapixel_copies(directory: Path, count: int) -> list[Path]:
    """Distinct 12-MP JPEGs of a real group photo (slow enough to be caught mid-analysis)."""
    with Image.open(FACES / "groups/group_14.jpg") as source:
        big = source.convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    paths = []
    for n in range(count):
        path = directory / f"team_{n}.jpg"
        big.save(path, "JPEG", quality=90 - n)  # a different file each time: no duplicates
        paths.append(path)
    return paths


def statuses(engine) -> dict[int, str]:
    with Session(engine) as session:
        return {p.id: p.status for p in session.exec(select(Photo))}


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_a_worker_killed_mid_photo_resumes_at_restart(tmp_path):
    var = tmp_path / "var"
    url = f"sqlite:///{var / 'consentlens.db'}"
    env = {
        **os.environ,
        "CONSENTLENS_VAR_DIR": str(var),
        # Share this test process's media directory, where the uploads are stored.
        "CONSENTLENS_MEDIA_DIR": str(storage.media_root()),
        "CONSENTLENS_WORKER_PROCESSES": "1",
    }
    env.pop("CONSENTLENS_DATABASE_URL", None)
    subprocess.run([CLI, "migrate"], env=env, check=True, capture_output=True)
    engine = make_engine(url)
    with Session(engine) as session:
        c = make_photos.club(session)
        ev = make_photos.event(session, c)
        make_photos.upload(session, c, ev, twelve_megapixel_copies(tmp_path, 4))
        session.commit()

    running = subprocess.Popen(
        [CLI, "worker"], env=env, start_new_session=True, stdout=subprocess.DEVNULL
    )
    try:
        wait_for(
            lambda: PhotoStatus.PROCESSING.value in statuses(engine).values(),
            timeout=90,
            what="the worker to claim a photo",
        )
        # The crash: the worker and its analysis processes die at once, mid-photo.
        os.killpg(running.pid, signal.SIGKILL)
        running.wait(10)
    finally:
        if running.poll() is None:
            os.killpg(running.pid, signal.SIGKILL)
    left = statuses(engine)
    assert PhotoStatus.PROCESSING.value in left.values()
    assert PhotoStatus.PENDING.value in left.values()

    restarted = subprocess.Popen(
        [CLI, "worker"], env=env, start_new_session=True, stdout=subprocess.DEVNULL
    )
    try:
        wait_for(
            lambda: set(statuses(engine).values()) <= {"ready", "needs_review"},
            timeout=180,
            what="every photo to be analysed after the restart",
        )
    finally:
        os.killpg(restarted.pid, signal.SIGTERM)
        restarted.wait(30)
    with Session(engine) as session:
        per_photo = [
            len(session.exec(select(Face).where(Face.photo_id == photo_id)).all())
            for photo_id in left
        ]
    # The same picture four times: the re-analysed photo has its faces once, like the others.
    assert len(set(per_photo)) == 1 and per_photo[0] >= 10
    engine.dispose()


def test_a_photo_that_cannot_be_read_fails_with_its_error_and_can_be_retried(db):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["portraits/biden_2.jpg"])
    original = storage.path_of(photo.original_ref)
    kept = original.read_bytes()
    original.unlink()  # the disk lost it

    processing.process_next(session=db)
    db.refresh(photo)
    # Unreadable is permanent: no pointless retries, the error is on the photo for staff.
    assert photo.status == PhotoStatus.FAILED and photo.attempts == 1
    assert "No such file" in photo.error
    assert processing.process_next(session=db) is None

    original.write_bytes(kept)
    service.retry_photo(session=db, photo=photo)
    assert processing.process_next(session=db) is not None
    db.refresh(photo)
    assert photo.status == PhotoStatus.NEEDS_REVIEW and photo.error == ""


def test_the_embedded_worker_is_off_in_tests_but_on_by_default():
    assert get_settings().run_worker is False
    assert type(get_settings()).model_fields["run_worker"].default is True


def test_maintenance_applies_what_time_changes(db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    ev = make_photos.event(db, c)
    known, stranger = make_photos.upload(
        db, c, ev, ["portraits/obama_2.jpg", "portraits/rose_leslie_1.jpg"]
    )
    processing.process_next(session=db)
    processing.process_next(session=db)
    website = db.get(StoredVerdict, (known.id, "website"))
    assert website is not None and website.action == "show" and website.valid_until is not None

    # A day after the season ended: every consent has lapsed, embeddings are past retention.
    later = website.valid_until + timedelta(days=get_settings().unidentified_embedding_days + 1)
    maintenance.run(db, later)

    db.expire_all()
    after = db.get(StoredVerdict, (known.id, "website"))
    assert after is not None and after.action == "blur"
    assert db.exec(select(ReferenceFace).where(ReferenceFace.child_id == c.obama.id)).all() == []
    faces = db.exec(select(Face).where(col(Face.photo_id).in_([known.id, stranger.id]))).all()
    assert all(face.embedding is None for face in faces)
    assert all(face.child_id is None for face in faces)


def test_a_photo_alone_is_shared_among_idle_processes_and_stored_gallery_ready(tmp_path):
    var = tmp_path / "var"
    env = {
        **os.environ,
        "CONSENTLENS_VAR_DIR": str(var),
        "CONSENTLENS_MEDIA_DIR": str(storage.media_root()),
        "CONSENTLENS_WORKER_PROCESSES": "2",
    }
    env.pop("CONSENTLENS_DATABASE_URL", None)
    subprocess.run([CLI, "migrate"], env=env, check=True, capture_output=True)
    engine = make_engine(f"sqlite:///{var / 'consentlens.db'}")
    alone, *batch = twelve_megapixel_copies(tmp_path, 4)
    # The worker writes meanwhile: take SQLite's write lock up front, as the app's writers do.
    setup = Session(engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}))
    c = make_photos.club(setup)
    ev = make_photos.event(setup, c)
    (first,) = make_photos.upload(setup, c, ev, [alone])
    first_id = first.id
    setup.commit()  # and no object of `setup` is touched until the batch: no lock is held

    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        running = subprocess.Popen(
            [CLI, "worker"], env=env, start_new_session=True, stdout=output, stderr=output
        )
    try:
        done = {"ready", "needs_review"}
        wait_for(lambda: statuses(engine)[first_id] in done, 120, "the photo alone")
        other_ids = [photo.id for photo in make_photos.upload(setup, c, ev, batch)]
        setup.commit()
        setup.close()
        wait_for(lambda: set(statuses(engine).values()) <= done, 180, "the batch")
    finally:
        os.killpg(running.pid, signal.SIGTERM)
        running.wait(30)
    text = log.read_text()
    # Alone in an idle pool it was shared; the batch kept both processes busy, one photo each.
    assert f"job {first_id} shared among 2 processes" in text
    assert not any(f"job {photo_id} shared" in text for photo_id in other_ids)

    whole = analysis.analyse_file(str(alone))
    with Session(engine) as session:
        stored = session.exec(
            select(Face).where(Face.photo_id == first_id).order_by(col(Face.id))
        ).all()
        # The same faces, boxes and embeddings as one process analysing the photo whole.
        assert [face.box for face in stored] == [face.box for face in whole.faces]
        for face, expected in zip(stored, whole.faces, strict=True):
            if expected.embedding is None:
                assert face.embedding is None
            else:
                assert face.embedding is not None
                assert np.allclose(analysis.decode(face.embedding), expected.embedding, atol=1e-5)
        # Gallery-ready: every rendering its verdicts serve was written by the worker.
        photo = session.get(Photo, first_id)
        assert photo is not None
        organisation = session.get(Organisation, photo.organisation_id)
        (evaluation,) = verdicts.evaluate(
            session=session, organisation=organisation, photos=[photo], now=utcnow()
        )
        wanted = verdicts.current_derivatives(evaluation=evaluation, organisation=organisation)
        on_disk = {path.name for path in storage.derivative_dir(first_id).iterdir()}
        assert {name for name in wanted if not name.endswith("-hidden")} == on_disk
        assert on_disk
        counts = {
            len(session.exec(select(Face).where(Face.photo_id == photo_id)).all())
            for photo_id in [first_id, *other_ids]
        }
        assert counts == {len(whole.faces)}
    engine.dispose()


def _pool_processes(var: Path) -> list[int]:
    """Pids of analysis processes started for the installation in `var` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"multiprocessing" in cmdline and f"CONSENTLENS_VAR_DIR={var}".encode() in environ:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("stop", ["SIGTERM to the server", "Ctrl-C"])
def test_a_stopped_server_takes_its_analysis_processes_with_it(stop, tmp_path):
    var = tmp_path / "var"
    env = {
        **os.environ,
        "CONSENTLENS_VAR_DIR": str(var),
        "CONSENTLENS_MEDIA_DIR": str(storage.media_root()),
        "CONSENTLENS_WORKER_PROCESSES": "2",
        "CONSENTLENS_RUN_WORKER": "true",
    }
    env.pop("CONSENTLENS_DATABASE_URL", None)
    subprocess.run([CLI, "migrate"], env=env, check=True, capture_output=True)
    engine = make_engine(f"sqlite:///{var / 'consentlens.db'}")
    with Session(engine) as session:
        c = make_photos.club(session)
        make_photos.upload(
            session, c, make_photos.event(session, c), twelve_megapixel_copies(tmp_path, 6)
        )
        session.commit()
    server = subprocess.Popen(
        [CLI, "serve", "--port", "0"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: PhotoStatus.PROCESSING.value in statuses(engine).values(),
            timeout=90,
            what="the embedded worker to claim photos",
        )
        assert _pool_processes(var)
        if stop == "Ctrl-C":
            os.killpg(server.pid, signal.SIGINT)  # a terminal sends it to the whole group
        else:
            server.send_signal(signal.SIGTERM)  # kill <pid>, supervisord: the server alone
        server.wait(30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    wait_for(lambda: not _pool_processes(var), timeout=15, what="the analysis processes to end")
    with Session(engine) as session:
        photos = session.exec(select(Photo)).all()
        # What was cut off is taken back at the next start, not counted as a failed attempt.
        assert all(photo.error == "" and photo.status != "failed" for photo in photos), [
            (photo.status, photo.error, photo.attempts) for photo in photos
        ]
        assert all(photo.attempts <= 1 for photo in photos)
    engine.dispose()
