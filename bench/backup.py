"""How long do a backup and its restore take for a club's season, and how large is the file?

Prints figures; asserts nothing. `.venv/bin/python bench/backup.py [--children 300 --photos 5000]`.

A throw-away SQLite installation gets a club with `--children` children (a guardian each, a decision
per use each, through the services) and `--photos` 12-MP JPEG originals (distinct files of one real
group photo enlarged, stored as uploads are: a photo row, three face rows with embeddings, the file
in the media folder). Then `consentlens backup`'s code makes a sealed backup and `restore` puts it
on a second, empty installation; the bench checks every table's checksum and every file's hash.
Needs about 4 × (photos × 1.5 MB) of free disk.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(tempfile.mkdtemp(prefix="consentlens-backup-bench-"))
os.environ["CONSENTLENS_VAR_DIR"] = str(ROOT / "source")
os.environ["CONSENTLENS_RUN_WORKER"] = "false"
for _name in ("CONSENTLENS_DATABASE_URL", "CONSENTLENS_MEDIA_DIR"):
    os.environ.pop(_name, None)

import argparse
import hashlib
import io
import shutil
import time
from datetime import date

import numpy as np
from PIL import Image
from sqlmodel import Session

from consentlens import wiring
from consentlens.auth import service as accounts
from consentlens.auth.models import Role
from consentlens.backup import archive, restoring, tables
from consentlens.consent import service as consent
from consentlens.core.config import get_settings
from consentlens.core.db import get_engine, make_engine
from consentlens.core.tables import utcnow
from consentlens.db import migrate
from consentlens.faces.models import Face, FaceState
from consentlens.organisations import service as organisations
from consentlens.people import children as child_service
from consentlens.people import guardianships
from consentlens.photos import service, storage
from consentlens.photos.models import Photo, PhotoStatus

FACES = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "faces"
PASSPHRASE = "bench passphrase"


def club(session: Session, children: int) -> tuple[int, int, int]:
    organisation = organisations.create_organisation(
        session=session, name="Bench club", today=utcnow().date()
    )
    staff = accounts.create_user(session=session, email="staff@bench.test", full_name="Staff")
    accounts.add_membership(session=session, user=staff, organisation=organisation, role=Role.STAFF)
    uses = consent.list_uses(session=session, organisation=organisation)
    for n in range(children):
        guardian = accounts.create_user(
            session=session, email=f"parent{n}@bench.test", full_name=f"Parent {n}"
        )
        accounts.add_membership(
            session=session, user=guardian, organisation=organisation, role=Role.GUARDIAN
        )
        child = child_service.create_child(
            session=session,
            organisation=organisation,
            first_name=f"Child{n}",
            last_name="Bench",
            birth_date=date(2015, 1, 1 + n % 28),
        )
        guardianships.create_guardianship(
            session=session, organisation=organisation, child=child, user=guardian
        )
        for use in uses:
            consent.record_decision(
                session=session,
                organisation=organisation,
                child=child,
                use=use,
                granted=(n + len(use.code)) % 3 != 0,
                method="online",
                now=utcnow(),
                guardian=guardian,
            )
    event = service.create_event(
        session=session,
        organisation=organisation,
        name="Season",
        event_date=utcnow().date(),
        group_ids=[],
        user=staff,
    )
    session.commit()
    assert organisation.id and event.id and staff.id
    return organisation.id, event.id, staff.id


def photos(session: Session, ids: tuple[int, int, int], count: int) -> int:
    """`count` distinct 12-MP originals with their rows, as the worker leaves them."""
    organisation_id, event_id, staff_id = ids
    with Image.open(FACES / "groups" / "group_14.jpg") as source:
        big = source.convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=90)
    base = buffer.getvalue()
    total = 0
    rng = np.random.default_rng(0)
    for n in range(count):
        tag = f"bench photo {n}".encode()
        data = base[:2] + b"\xff\xfe" + (len(tag) + 2).to_bytes(2, "big") + tag + base[2:]
        sha = hashlib.sha256(data).hexdigest()
        ref = storage.original_ref(organisation_id=organisation_id, sha256=sha, extension="jpg")
        path = storage.path_of(ref)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total += len(data)
        photo = Photo(
            organisation_id=organisation_id,
            event_id=event_id,
            sha256=sha,
            original_ref=ref,
            original_name=f"IMG_{n:05}.jpg",
            media_type="image/jpeg",
            byte_size=len(data),
            width=4000,
            height=3000,
            uploaded_by_id=staff_id,
            status=PhotoStatus.NEEDS_REVIEW.value,
        )
        session.add(photo)
        session.flush()
        assert photo.id is not None
        for k in range(3):
            session.add(
                Face(
                    photo_id=photo.id,
                    x=100 + 300 * k,
                    y=200,
                    w=150,
                    h=150,
                    score=0.9,
                    state=FaceState.UNKNOWN.value,
                    embedding=rng.random(128, dtype=np.float32).tobytes(),
                )
            )
        if n % 500 == 499:
            session.commit()
    session.commit()
    return total


def file_hashes(media: Path) -> dict[str, str]:
    return {
        ref: hashlib.sha256(path.read_bytes()).hexdigest()
        for ref, path in archive.stored_files(media)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=300)
    parser.add_argument("--photos", type=int, default=5000)
    args = parser.parse_args()
    try:
        wiring.install_process()
        migrate.upgrade()
        settings = get_settings()
        started = time.perf_counter()
        with Session(get_engine()) as session:
            ids = club(session, args.children)
            stored = photos(session, ids, args.photos)
        print(
            f"club: {args.children} children, {args.photos} photos "
            f"({stored / 1e9:.2f} GB of originals) made in {time.perf_counter() - started:.0f} s"
        )
        with tables.snapshot(get_engine()) as connection:
            before = tables.checksums(connection)
        rows = sum(table["rows"] for table in before.values())

        report = archive.create(
            target=ROOT / "club.backup",
            passphrase=PASSPHRASE,
            engine=get_engine(),
            media_root=settings.resolved_media_dir,
            now=utcnow(),
        )
        print(
            f"backup: {rows} rows and {report.files} files in {report.seconds:.1f} s "
            f"({stored / 1e6 / report.seconds:.0f} MB/s of originals); "
            f"file {report.size / 1e9:.2f} GB "
            f"({report.size / stored:.3f} × the originals)"
        )

        target = ROOT / "target"
        target.mkdir()
        url = f"sqlite:///{target / 'consentlens.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        restored = restoring.restore(
            source=report.path,
            passphrase=PASSPHRASE,
            engine=engine,
            media_root=target / "media",
            work_dir=target,
        )
        same_files = file_hashes(target / "media") == file_hashes(settings.resolved_media_dir)
        print(
            f"restore: {restored.seconds:.1f} s (unpack and check, insert, verify); tables "
            f"{'identical' if restored.tables == before else 'DIFFERENT'}; files "
            f"{'identical' if same_files else 'DIFFERENT'}"
        )
        engine.dispose()
    finally:
        shutil.rmtree(ROOT, ignore_errors=True)


if __name__ == "__main__":
    main()
