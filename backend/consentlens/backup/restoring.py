"""`consentlens restore`: a backup back onto an installation, or nothing at all.

Everything is unpacked and checked in a staging folder first (the sealed stream to its end, every
file and table against the manifest, the format and schema revision, where each file will go), so
a damaged, truncated, wrongly keyed or foreign backup is refused before the installation changes.
Then the files are put in place and the rows inserted in one transaction that is verified before it
commits; if anything fails on the way, the files put in place are taken out again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from consentlens.backup import tables
from consentlens.backup.archive import FORMAT, refuse_object_storage, stored_files
from consentlens.backup.sealing import BackupRefused, Damaged, SealedReader
from consentlens.core.config import get_settings
from consentlens.core.files import FILE_MODE, private_dir, sqlite_files, write_private
from consentlens.db import migrate

_READ = 1 << 20
STAGING = "restore-"
# In the var folder: held (shared) by every running server and worker of the installation.
RUNNING_LOCK = "running.lock"


class RestoreRefused(BackupRefused):
    """The backup is sound but cannot be restored here (the message says why)."""


@dataclass(frozen=True, slots=True)
class RestoreReport:
    tables: dict[str, dict[str, Any]]
    files: int
    seconds: float
    secret_restored: bool = False


def code_revision() -> str | None:
    """The schema revision this version of ConsentLens migrates to."""
    return ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


def unpack(*, source: Path, passphrase: str, staging: Path) -> dict[str, Any]:
    """Open, check and unpack a backup into `staging`; the manifest, or `BackupRefused`."""
    seen: dict[str, str] = {}
    try:
        with source.open("rb") as raw:
            reader = io.BufferedReader(SealedReader(raw, passphrase), _READ)
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                for member in tar:
                    name = _safe_name(member)
                    extracted = tar.extractfile(member)
                    if extracted is None or name in seen:
                        raise Damaged(f"The backup is damaged: unexpected entry {name!r}.")
                    path = staging / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    digest = hashlib.sha256()
                    with path.open("wb") as out:
                        while chunk := extracted.read(_READ):
                            digest.update(chunk)
                            out.write(chunk)
                    seen[name] = digest.hexdigest()
            # To the end of the sealed stream: its last part and nothing after it.
            while reader.read(_READ):
                pass
    except BackupRefused:
        raise
    except tarfile.TarError as error:
        raise Damaged(f"The backup is damaged: {error}.") from error
    except (FileNotFoundError, IsADirectoryError) as error:
        raise BackupRefused(f"No backup file at {source}.") from error
    except (OSError, ValueError) as error:
        raise Damaged(f"The backup is damaged: {error}.") from error
    manifest = _manifest(staging, seen)
    for ref, sha in manifest["files"].items():
        if seen.get(f"files/{ref}") != sha:
            raise Damaged(f"The backup is damaged: the file {ref} does not match its checksum.")
    for table in tables.ordered_tables():
        expected = manifest["tables"].get(table.name)
        path = staging / "db" / f"{table.name}.jsonl"
        if expected is None or not path.is_file():
            raise Damaged(f"The backup is damaged: the table {table.name} is missing.")
        lines_of = tables.Digest()
        with path.open("rb") as lines:
            for data in lines:
                lines_of.add(data.rstrip(b"\n"))
        if (lines_of.count, lines_of.hexdigest) != (expected["rows"], expected["sha256"]):
            raise Damaged(
                f"The backup is damaged: the table {table.name} does not match its checksum."
            )
    return manifest


def _manifest(staging: Path, seen: dict[str, str]) -> dict[str, Any]:
    if "manifest.json" not in seen:
        raise Damaged("The backup is damaged: it has no manifest.")
    try:
        manifest = json.loads((staging / "manifest.json").read_bytes())
        if not isinstance(manifest.get("files"), dict) or not isinstance(
            manifest.get("tables"), dict
        ):
            raise ValueError("manifest")
    except (ValueError, AttributeError) as error:
        raise Damaged("The backup is damaged: its manifest cannot be read.") from error
    if manifest.get("format") != FORMAT:
        raise RestoreRefused(
            f"This backup is in format {manifest.get('format')!r}, this ConsentLens reads format "
            f"{FORMAT}: restore it with the version that made it."
        )
    return manifest


def _safe_name(member: tarfile.TarInfo) -> str:
    name = PurePosixPath(member.name)
    parts = name.parts
    top_level = parts[:1] in (("manifest.json",), ("secret_key",)) and len(parts) == 1
    inside = len(parts) >= 2 and parts[0] in ("db", "files")
    if not member.isfile() or name.is_absolute() or ".." in parts or not (top_level or inside):
        raise Damaged(f"The backup is damaged: unexpected entry {member.name!r}.")
    return name.as_posix()


def clear_staging(work_dir: Path) -> None:
    """Staging folders a killed restore left (they hold the decrypted backup)."""
    for leftover in work_dir.glob(f"{STAGING}*"):
        shutil.rmtree(leftover, ignore_errors=True)


def restore(
    *,
    source: Path,
    passphrase: str,
    engine: Engine,
    media_root: Path,
    work_dir: Path,
    secret_path: Path | None = None,
    before_writing: Callable[[], None] | None = None,
) -> RestoreReport:
    """Restore a backup onto this (empty) installation, or refuse saying why and change nothing.

    The generated secret key in the backup, if any, is written to `secret_path` (the installation
    uses a generated key), so links and codes signed before the backup keep working.
    `before_writing` runs once the backup has checked out (e.g. to set an installation aside).
    """
    started = time.monotonic()
    refuse_object_storage(get_settings())
    work_dir.mkdir(parents=True, exist_ok=True)
    clear_staging(work_dir)
    staging = Path(tempfile.mkdtemp(dir=work_dir, prefix=STAGING))
    placed: list[Path] = []
    try:
        manifest = unpack(source=source, passphrase=passphrase, staging=staging)
        head = code_revision()
        if manifest.get("revision") != head:
            raise RestoreRefused(
                f"The backup is of schema {manifest.get('revision')} and this ConsentLens is at "
                f"{head}: restore it with the version that made it."
            )
        destinations = {ref: _destination(media_root, ref) for ref in manifest["files"]}
        if before_writing is not None:
            before_writing()
        try:
            migrate.upgrade(engine.url.render_as_string(hide_password=False))
            with engine.connect() as connection:
                busy = tables.non_empty(connection)
        except SQLAlchemyError as error:
            raise RestoreRefused(f"The database cannot be reached: {error.args[0]}") from error
        existing = [ref for ref, _ in stored_files(media_root)]
        if busy or existing:
            raise RestoreRefused(
                "This installation is not empty "
                f"({', '.join(busy[:5]) or f'{len(existing)} stored files'}): restore onto a new "
                "one (an empty database and media folder), or use --replace."
            )
        for ref, destination in destinations.items():
            private_dir(destination.parent)
            shutil.move(staging / "files" / ref, destination)
            os.chmod(destination, FILE_MODE)
            placed.append(destination)
        restored = _insert_verified(engine=engine, staging=staging, manifest=manifest)
        secret = staging / "secret_key"
        secret_restored = secret_path is not None and secret.is_file()
        if secret_path is not None and secret.is_file():
            write_private(path=secret_path, data=secret.read_bytes())
        placed = []  # done: nothing to take back
    finally:
        for path in placed:
            path.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreReport(
        tables=restored,
        files=len(manifest["files"]),
        seconds=time.monotonic() - started,
        secret_restored=secret_restored,
    )


def _destination(media_root: Path, ref: str) -> Path:
    destination = media_root / ref
    root = media_root.resolve()
    if not destination.resolve().is_relative_to(root) or destination.is_symlink():
        raise RestoreRefused(
            f"The file {ref} would be stored outside the media folder {media_root} (a link in "
            "it?): restore onto a media folder without links."
        )
    return destination


def _insert_verified(*, engine: Engine, staging: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Insert every table in one transaction and compare it with the manifest before commit."""
    try:
        with engine.begin() as connection:
            for table in tables.ordered_tables():
                with (staging / "db" / f"{table.name}.jsonl").open("rb") as lines:
                    tables.insert(
                        connection, table=table, lines=(data.rstrip(b"\n") for data in lines)
                    )
            tables.reset_sequences(connection)
            restored = tables.checksums(connection)
            if restored != manifest["tables"]:
                raise Damaged("The restored database would not match the backup's checksums.")
    except (SQLAlchemyError, ValueError, TypeError, KeyError) as error:
        raise Damaged(f"The backup's rows cannot be inserted: {type(error).__name__}.") from error
    return restored


def set_aside(*, engine: Engine, others: list[Path], suffix: str) -> list[tuple[Path, Path]]:
    """Rename an SQLite installation's database files and `others` (its media folder, its
    generated secret key) out of the way, deleting nothing; (original, new name) of each."""
    if engine.dialect.name != "sqlite":
        raise RestoreRefused(
            "Only an SQLite installation can be set aside; restore onto an empty PostgreSQL "
            "database instead."
        )
    url = engine.url.render_as_string(hide_password=False)
    # One complete file: what the write-ahead log holds goes into the database first.
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()  # no connection may keep the old file open
    moved: list[tuple[Path, Path]] = []
    try:
        for path in [*sqlite_files(url), *others]:
            if path.exists():
                aside = path.with_name(f"{path.name}.{suffix}")
                path.rename(aside)
                moved.append((path, aside))
    except OSError as error:
        put_back(moved=moved, engine=engine)
        raise RestoreRefused(f"The installation cannot be set aside: {error}") from error
    return moved


def put_back(*, moved: list[tuple[Path, Path]], engine: Engine) -> None:
    """Undo `set_aside` after a restore that failed: what it created goes, the old comes back."""
    engine.dispose()
    for original, aside in reversed(moved):
        if original.is_dir():
            shutil.rmtree(original, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                original.unlink()
        aside.rename(original)
    # Companion files of a database created meanwhile and not set aside.
    for companion in sqlite_files(engine.url.render_as_string(hide_password=False))[1:]:
        if companion not in {original for original, _ in moved}:
            companion.unlink(missing_ok=True)


def is_running_elsewhere(lock: Path) -> bool:
    """Whether a server or worker of this installation holds its running lock."""
    import fcntl

    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False
