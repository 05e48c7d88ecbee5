"""Backups that restore: real databases (SQLite file, PostgreSQL), real files, real encryption."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import User
from consentlens.backup import archive, restoring, tables
from consentlens.backup.sealing import Damaged, NotABackup, Truncated, WrongPassphrase
from consentlens.consent.models import ConsentDecision
from consentlens.core.db import SQLITE_BEGIN, make_engine
from consentlens.core.tables import utcnow
from consentlens.db import migrate
from consentlens.faces import processing, verdicts
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child, Group
from consentlens.photos.models import Event, Photo
from tests.conftest import _postgres_database
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos

PASSPHRASE = "correct horse battery staple"


@dataclass
class Installation:
    engine: Engine
    media: Path
    var: Path

    def session(self) -> Session:
        # Others write meanwhile: take SQLite's write lock up front, as the app's writers do.
        return Session(self.engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}))


@pytest.fixture(params=["sqlite", "postgresql"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def new_installation(kind, tmp_path) -> Iterator:
    """Makes empty installations (database and media folder) of this test's kind."""
    made: list[tuple[Engine, Iterator[str] | None]] = []

    def make(name: str) -> Installation:
        if kind == "sqlite":
            urls = None
            url = f"sqlite:///{tmp_path / name / 'consentlens.db'}"
            (tmp_path / name).mkdir()
        else:
            urls = _postgres_database()
            url = next(urls)
        migrate.upgrade(url)
        engine = make_engine(url)
        made.append((engine, urls))
        return Installation(engine, tmp_path / name / "media", tmp_path / name)

    yield make
    for engine, urls in made:
        engine.dispose()
        if urls is not None:
            next(urls, None)


def club_with_photos(installation: Installation) -> None:
    """A club with decisions, an enrolled child and two analysed photos, committed."""
    with installation.session() as session:
        c = make_photos.club(session)
        make_consent.grant_all(session, c.org, c.obama, c.guardian)
        make_consent.decide(session, c.org, c.biden, c.guardian, {"website": False})
        make_photos.enroll(session, c.org, c.obama, "portraits/obama_1.jpg")
        ev = make_photos.event(session, c)
        make_photos.upload(
            session, c, ev, ["groups/obama_and_biden.jpg", "portraits/obama_2_exif_rotated.jpg"]
        )
        session.commit()
        while processing.process_next(session=session):
            pass


def file_hashes(media: Path) -> dict[str, str]:
    return {
        ref: hashlib.sha256(path.read_bytes()).hexdigest()
        for ref, path in archive.stored_files(media)
    }


def checksums(installation: Installation) -> dict:
    with tables.snapshot(installation.engine) as connection:
        return tables.checksums(connection)


def served_verdicts(installation: Installation) -> dict:
    with installation.session() as session:
        photos = list(session.exec(select(Photo).order_by(col(Photo.id))))
        judged = {}
        for photo in photos:
            organisation = photo_org(session, photo)
            (evaluation,) = verdicts.evaluate(
                session=session, organisation=organisation, photos=[photo], now=utcnow()
            )
            judged[photo.id] = {
                use: (v.action.value, sorted(v.faces_to_blur))
                for use, v in evaluation.verdicts.items()
            }
        return judged


def photo_org(session: Session, photo: Photo) -> Organisation:
    organisation = session.get(Organisation, photo.organisation_id)
    assert organisation is not None
    return organisation


def backup_of(installation: Installation, target: Path) -> archive.BackupReport:
    return archive.create(
        target=target,
        passphrase=PASSPHRASE,
        engine=installation.engine,
        media_root=installation.media,
        now=utcnow(),
    )


def restore_onto(installation: Installation, source: Path, passphrase: str = PASSPHRASE):
    return restoring.restore(
        source=source,
        passphrase=passphrase,
        engine=installation.engine,
        media_root=installation.media,
        work_dir=installation.var,
    )


def test_a_backup_restores_the_same_rows_files_and_verdicts(new_installation, media_at, tmp_path):
    source = new_installation("source")
    media_at(source)
    club_with_photos(source)
    report = backup_of(source, tmp_path / "club.backup")
    assert report.tables["photos"]["rows"] == 2 and report.files >= 2
    data = report.path.read_bytes()
    # Sealed: neither a name nor a photo's bytes can be read in the file.
    assert b"Barack" not in data and b"JFIF" not in data and b"Exif" not in data

    target = new_installation("target")
    media_at(target)
    restored = restore_onto(target, report.path)
    assert restored.tables == checksums(source) == checksums(target)
    assert file_hashes(target.media) == file_hashes(source.media) != {}
    assert not (target.media / "derivatives").exists()  # made again on request
    assert served_verdicts(target) == served_verdicts(source)
    assert not any(target.var.glob("restore-*")), "the staging folder is removed"


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "wrong passphrase", "not one"])
def test_a_damaged_or_wrongly_keyed_backup_is_refused_and_nothing_is_written(
    damage, new_installation, media_at, tmp_path
):
    source = new_installation("source")
    media_at(source)
    with source.session() as session:
        c = make_photos.club(session)
        make_consent.grant_all(session, c.org, c.obama, c.guardian)
        make_photos.upload(session, c, make_photos.event(session, c), ["portraits/biden_1.jpg"])
        session.commit()
    good = backup_of(source, tmp_path / "good.backup").path
    data = bytearray(good.read_bytes())
    bad = tmp_path / "bad.backup"
    passphrase = PASSPHRASE
    expected: type[Exception] = Damaged
    if damage == "flipped byte":
        data[len(data) // 2] ^= 0x01
    elif damage == "truncated":
        del data[-100:]
        expected = Truncated
    elif damage == "wrong passphrase":
        passphrase = "not the passphrase"
        expected = WrongPassphrase
    else:
        data = bytearray(b"PK\x03\x04 a zip file, say")
        expected = NotABackup
    bad.write_bytes(bytes(data))

    target = new_installation("target")
    with pytest.raises(expected) as refused:
        restore_onto(target, bad, passphrase)
    assert str(refused.value)  # a sentence for whoever restores it
    with tables.snapshot(target.engine) as connection:
        assert tables.non_empty(connection) == []
    assert file_hashes(target.media) == {}
    assert not any(target.var.glob("restore-*"))


def test_a_restore_onto_an_installation_in_use_is_refused(new_installation, media_at, tmp_path):
    source = new_installation("source")
    media_at(source)
    with source.session() as session:
        make_photos.club(session)
        session.commit()
    backup = backup_of(source, tmp_path / "club.backup").path
    before = checksums(source)
    with pytest.raises(restoring.RestoreRefused, match="not empty"):
        restore_onto(source, backup)
    assert checksums(source) == before


def test_a_backup_taken_while_decisions_and_uploads_go_on_is_consistent(
    new_installation, media_at, tmp_path
):
    source = new_installation("source")
    media_at(source)
    with source.session() as session:
        c = make_photos.club(session)
        ev = make_photos.event(session, c)
        session.commit()
        ids = {
            name: getattr(c, name).id
            for name in ("org", "staff", "guardian", "team", "obama", "biden")
        }
        event_id = ev.id
    stop = threading.Event()
    written = {"decisions": 0, "photos": 0}

    def keep_writing() -> None:
        portrait = Image.open(make_photos.FACES / "portraits/biden_1.jpg").convert("RGB")
        n = 0
        while not stop.is_set():
            n += 1
            with source.session() as session:
                club = make_photos.Club(
                    org=session.get(Organisation, ids["org"]),
                    staff=session.get(User, ids["staff"]),
                    guardian=session.get(User, ids["guardian"]),
                    team=session.get(Group, ids["team"]),
                    obama=session.get(Child, ids["obama"]),
                    biden=session.get(Child, ids["biden"]),
                )
                make_consent.decide(
                    session, club.org, club.obama, club.guardian, {"website": n % 2 == 0}
                )
                path = tmp_path / f"upload_{n}.jpg"
                portrait.save(path, quality=70 + n % 25, comment=f"{n}".encode())
                make_photos.upload(session, club, session.get(Event, event_id), [path])
                session.commit()
            written["decisions"] += 1
            written["photos"] += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        time.sleep(1.0)
        report = backup_of(source, tmp_path / "busy.backup")
        time.sleep(0.5)
    finally:
        stop.set()
        writer.join(30)
    assert written["photos"] >= 2

    target = new_installation("target")
    media_at(target)
    restore_onto(target, report.path)
    with target.session() as session:
        decisions = {d.id for d in session.exec(select(ConsentDecision))}
        logged = {
            event.details["decision_id"]
            for event in session.exec(
                select(AuditEvent).where(AuditEvent.action == "consent.decision_recorded")
            )
        }
        # One snapshot: every decision the audit trail names is there, and no decision unlogged.
        assert logged == decisions and decisions
        photos = list(session.exec(select(Photo)))
        assert photos
        for photo in photos:
            assert (target.media / photo.original_ref).is_file(), photo.original_ref
    assert report.vanished == []


def test_the_backup_file_is_private_and_a_failed_backup_leaves_none(
    new_installation, media_at, tmp_path
):
    source = new_installation("source")
    media_at(source)
    report = backup_of(source, tmp_path / "empty.backup")
    assert oct(os.stat(report.path).st_mode & 0o777) == "0o600"
    with pytest.raises(ValueError, match="passphrase"):
        archive.create(
            target=tmp_path / "none.backup",
            passphrase="",
            engine=source.engine,
            media_root=source.media,
            now=utcnow(),
        )
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == ["empty.backup"]


CLI = [sys.executable, "-m", "consentlens.cli"]


def cli(var: Path, *args: str, passphrase: str | None = PASSPHRASE) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONSENTLENS_VAR_DIR": str(var)}
    for name in (
        "CONSENTLENS_DATABASE_URL",
        "CONSENTLENS_MEDIA_DIR",
        "CONSENTLENS_BACKUP_PASSPHRASE",
    ):
        env.pop(name, None)
    if passphrase is not None:
        env["CONSENTLENS_BACKUP_PASSPHRASE"] = passphrase
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


def test_the_demo_club_is_backed_up_and_restored_on_a_new_machine_with_the_cli(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    assert cli(old, "migrate").returncode == 0
    assert cli(old, "demo").returncode == 0
    refused = cli(old, "backup", passphrase=None)
    assert refused.returncode != 0 and "CONSENTLENS_BACKUP_PASSPHRASE" in refused.stderr
    made = cli(old, "backup")
    assert made.returncode == 0, made.stderr
    (backup,) = (old / "backups").glob("*.backup")
    assert "Backup written to" in made.stdout and str(backup) in made.stdout

    wrong = cli(new, "restore", str(backup), passphrase="another one")
    assert wrong.returncode == 1 and "Nothing was restored. Wrong passphrase" in wrong.stderr
    restored = cli(new, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "every table matches" in restored.stdout
    assert "secret key was restored" in restored.stdout
    # Links e-mailed and codes printed before the backup open on the new machine.
    assert (new / "secret_key").read_text() == (old / "secret_key").read_text()
    again = cli(new, "restore", str(backup))
    assert again.returncode == 1 and "not empty" in again.stderr

    # Told to, it restores over an installation in use, and deletes nothing of what was there.
    assert cli(new, "demo").returncode == 0  # idempotent: nothing new, but not empty either
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(backup.read_bytes()[:-10])
    refused = cli(new, "restore", "--replace", str(damaged))
    assert refused.returncode == 1 and "incomplete" in refused.stderr
    assert not list(new.glob("*before-restore*")), "a bad backup sets nothing aside"
    replaced = cli(new, "restore", "--replace", str(backup))
    assert replaced.returncode == 0, replaced.stderr
    aside = {path.name.split(".before-restore")[0] for path in new.glob("*before-restore*")}
    assert {"consentlens.db", "secret_key"} <= aside  # the demo has no photos: no media folder
    assert aside <= {
        "consentlens.db",
        "consentlens.db-wal",
        "consentlens.db-shm",
        "media",
        "secret_key",
    }

    engines = [make_engine(f"sqlite:///{var / 'consentlens.db'}") for var in (old, new)]
    try:
        sums = []
        for engine in engines:
            with tables.snapshot(engine) as connection:
                sums.append(tables.checksums(connection))
        assert sums[0] == sums[1] and sums[0]["consent_decisions"]["rows"] > 0
    finally:
        for engine in engines:
            engine.dispose()


def _sealed_header(data: bytes) -> tuple[int, dict]:
    from consentlens.backup.sealing import MAGIC

    length = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 4], "big")
    start = len(MAGIC) + 4
    return start, json.loads(data[start : start + length])


@pytest.mark.parametrize(
    "damage", ["junk after the end", "salt changed", "cost raised", "no end", "header value"]
)
def test_damage_the_manifest_would_not_see_is_refused_too(damage, tmp_path, kind, new_installation):
    """The stream is read to its end, and a doctored header is damage, not a wrong passphrase,
    and cannot make a restore run for hours or take all the memory."""
    from consentlens.backup import sealing

    source = new_installation("source")
    good = backup_of(source, tmp_path / "good.backup").path
    data = good.read_bytes()
    start, header = _sealed_header(data)
    length = len(json.dumps(header).encode())
    expected: type[Exception] = Damaged
    if damage == "junk after the end":
        data += b"junk!"
    elif damage == "no end":
        # A stream whose last part is cut off at a part boundary: no final part.
        with pytest.raises(Truncated):
            list(sealing.open_sealed(io.BytesIO(data[: start + length + 4]), passphrase=PASSPHRASE))
        return
    else:
        if damage == "salt changed":
            header["salt"] = base64.b64encode(b"\x01" * 16).decode()
        elif damage == "cost raised":
            header["opslimit"] = 4_000_000_000
            header["memlimit"] = 1 << 31
        else:
            header["stream"] = "c2hvcnQ="
        raw = json.dumps(header).encode()
        data = (
            data[: len(sealing.MAGIC)] + len(raw).to_bytes(4, "big") + raw + data[start + length :]
        )
    bad = tmp_path / "bad.backup"
    bad.write_bytes(data)
    target = new_installation("target")
    started = time.monotonic()
    with pytest.raises(expected):
        restore_onto(target, bad)
    assert time.monotonic() - started < 30
    with tables.snapshot(target.engine) as connection:
        assert tables.non_empty(connection) == []


def test_a_backup_never_replaces_a_file_and_wants_a_real_passphrase(
    tmp_path, kind, new_installation
):
    from consentlens.backup import schedule
    from consentlens.core.config import Settings

    source = new_installation("source")
    taken = tmp_path / "consentlens.db"
    taken.write_bytes(b"the live database")
    settings = Settings(var_dir=source.var, backup_passphrase=PASSPHRASE, env="test")
    with pytest.raises(FileExistsError):
        schedule.run_backup(settings=settings, trigger="test", target=taken, engine=source.engine)
    assert taken.read_bytes() == b"the live database"
    with pytest.raises(ValueError, match="at least 12"):
        archive.create(
            target=tmp_path / "short.backup",
            passphrase="x",
            engine=source.engine,
            media_root=source.media,
            now=utcnow(),
        )


def test_replace_changes_nothing_until_the_backup_checks_out_and_not_while_the_app_runs(
    tmp_path, monkeypatch
):
    import fcntl

    old = tmp_path / "old"
    assert cli(old, "migrate").returncode == 0 and cli(old, "demo").returncode == 0
    assert cli(old, "backup", "--to", str(tmp_path / "good.backup")).returncode == 0
    # A sound backup of another schema: refused before anything is set aside.
    monkeypatch.setattr(tables, "revision", lambda connection: "0000deadbeef")
    engine = make_engine(f"sqlite:///{old / 'consentlens.db'}")
    archive.create(
        target=tmp_path / "other-schema.backup",
        passphrase=PASSPHRASE,
        engine=engine,
        media_root=old / "media",
        now=utcnow(),
    )
    engine.dispose()
    before = (old / "consentlens.db").read_bytes()
    refused = cli(old, "restore", "--replace", str(tmp_path / "other-schema.backup"))
    assert refused.returncode == 1 and "schema 0000deadbeef" in refused.stderr
    assert not list(old.glob("*before-restore*"))
    assert (old / "consentlens.db").read_bytes() == before

    # A server or worker of this installation holds its running lock: --replace waits for it.
    with (old / restoring.RUNNING_LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        running = cli(old, "restore", "--replace", str(tmp_path / "good.backup"))
    assert running.returncode == 1 and "stop it first" in running.stderr
    assert not list(old.glob("*before-restore*"))


def test_what_was_set_aside_is_put_back_exactly(tmp_path):
    url = f"sqlite:///{tmp_path / 'consentlens.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    media = tmp_path / "media"
    (media / "originals").mkdir(parents=True)
    (media / "originals" / "a.jpg").write_bytes(b"photo")
    secret = tmp_path / "secret_key"
    secret.write_text("the key")
    before = checksums(Installation(engine, media, tmp_path))
    moved = restoring.set_aside(engine=engine, others=[media, secret], suffix="aside")
    assert not (tmp_path / "consentlens.db").exists() and not media.exists()
    migrate.upgrade(url)  # what a failed restore leaves: a new, empty database
    restoring.put_back(moved=moved, engine=engine)
    assert checksums(Installation(engine, media, tmp_path)) == before
    assert (media / "originals" / "a.jpg").read_bytes() == b"photo"
    assert secret.read_text() == "the key" and not list(tmp_path.glob("*.aside"))
    engine.dispose()
