"""`consentlens backup` and `consentlens restore`: one sealed file with the database and files.

Inside the sealed stream (`sealing`) is a tar stream: `db/<table>.jsonl` for every table (one
consistent snapshot, `tables.snapshot`), `files/<ref>` for every stored file (originals, paper
scans, logos; renderings are left out and made again on request), and `manifest.json` last, with
the schema revision and the checksum of every table and file.

A restore first unpacks and checks everything into a staging folder: a damaged, truncated or
wrongly keyed backup is refused before anything of the installation changes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import Engine

from consentlens.backup import tables
from consentlens.backup.sealing import BackupRefused, Damaged, KeyCost, SealedReader, SealedWriter
from consentlens.core.files import FILE_MODE, private_dir, sqlite_files, write_private
from consentlens.db import migrate

FORMAT = 1
# Renderings are made again from the originals; uploads in progress are not data yet.
LEFT_OUT = ("derivatives", "incoming")
_READ = 1 << 20


class RestoreRefused(BackupRefused):
    """The backup is sound but cannot be restored here (say why)."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    size: int
    seconds: float
    tables: dict[str, dict[str, Any]]
    files: int
    # Files whose rows were in the snapshot but which were deleted before they were copied.
    vanished: list[str] = field(default_factory=list)


def stored_files(media_root: Path) -> Iterator[tuple[str, Path]]:
    """(reference, path) of every stored file to keep, in a stable order."""
    if not media_root.is_dir():
        return
    for path in sorted(media_root.rglob("*")):
        ref = path.relative_to(media_root).as_posix()
        if path.is_file() and not path.is_symlink() and ref.split("/")[0] not in LEFT_OUT:
            yield ref, path


def create(
    *,
    target: Path,
    passphrase: str,
    engine: Engine,
    media_root: Path,
    now: datetime,
    cost: KeyCost | None = None,
    secret_key: str | None = None,
) -> BackupReport:
    """Write a sealed backup to `target` (atomically: a failed backup leaves no file).

    `secret_key` is the generated key that signed the consent links and printed codes; without
    it a restored installation could not open the links parents already hold.
    """
    started = time.monotonic()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    manifest: dict[str, Any] = {"format": FORMAT, "created_at": now.isoformat(), "files": {}}
    vanished: list[str] = []
    try:
        with partial.open("wb") as raw:
            os.chmod(partial, FILE_MODE)
            sealed = SealedWriter(raw, passphrase, cost)
            with tarfile.open(fileobj=sealed, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                with tables.snapshot(engine) as connection:
                    manifest["revision"] = tables.revision(connection)
                    manifest["tables"] = {}
                    for table in tables.ordered_tables():
                        digest = tables.Digest()
                        with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
                            for data in tables.rows(connection, table=table):
                                digest.add(data)
                                spool.write(data + b"\n")
                            _add(tar, f"db/{table.name}.jsonl", spool, spool.tell())
                        manifest["tables"][table.name] = {
                            "rows": digest.count,
                            "sha256": digest.hexdigest,
                        }
                # Files after the snapshot: a file is stored before its row commits and deleted
                # after, so every row of the snapshot still has its file, barring a deletion
                # that committed in between (reported as vanished).
                for ref, path in stored_files(media_root):
                    try:
                        source = path.open("rb")
                    except FileNotFoundError:
                        vanished.append(ref)
                        continue
                    with source:
                        hashing = _Hashing(source)
                        _add(tar, f"files/{ref}", hashing, os.fstat(source.fileno()).st_size)
                    manifest["files"][ref] = hashing.hexdigest
                manifest["vanished"] = vanished
                if secret_key:
                    _add(tar, "secret_key", io.BytesIO(secret_key.encode()), len(secret_key))
                data = json.dumps(manifest, indent=1, sort_keys=True).encode()
                _add(tar, "manifest.json", io.BytesIO(data), len(data))
            sealed.close()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(
        path=target,
        size=target.stat().st_size,
        seconds=time.monotonic() - started,
        tables=manifest["tables"],
        files=len(manifest["files"]),
        vanished=vanished,
    )


def _add(tar: tarfile.TarFile, name: str, source: IO[bytes] | _Hashing, size: int) -> None:
    if source.seekable():
        source.seek(0)
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    tar.addfile(info, source)


class _Hashing(io.RawIOBase):
    """Reads through a file and hashes what it read."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self._hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self._hash.update(data)
        return data

    @property
    def hexdigest(self) -> str:
        return self._hash.hexdigest()


@dataclass(frozen=True, slots=True)
class RestoreReport:
    tables: dict[str, dict[str, Any]]
    files: int
    seconds: float
    secret_restored: bool = False


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
                    assert extracted is not None
                    path = staging / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    digest = hashlib.sha256()
                    with path.open("wb") as out:
                        while chunk := extracted.read(_READ):
                            digest.update(chunk)
                            out.write(chunk)
                    seen[name] = digest.hexdigest()
    except tarfile.TarError as error:
        raise Damaged(f"The backup is damaged: {error}.") from error
    except FileNotFoundError as error:
        raise BackupRefused(f"No backup at {source}.") from error
    if "manifest.json" not in seen:
        raise Damaged("The backup is damaged: it has no manifest.")
    try:
        manifest: dict[str, Any] = json.loads((staging / "manifest.json").read_bytes())
    except ValueError as error:
        raise Damaged("The backup is damaged: its manifest cannot be read.") from error
    for ref, sha in manifest.get("files", {}).items():
        if seen.get(f"files/{ref}") != sha:
            raise Damaged(f"The backup is damaged: the file {ref} does not match its checksum.")
    for name, expected in manifest.get("tables", {}).items():
        lines_of = tables.Digest()
        path = staging / "db" / f"{name}.jsonl"
        if not path.is_file():
            raise Damaged(f"The backup is damaged: the table {name} is missing.")
        with path.open("rb") as lines:
            for data in lines:
                lines_of.add(data.rstrip(b"\n"))
        if (lines_of.count, lines_of.hexdigest) != (expected["rows"], expected["sha256"]):
            raise Damaged(f"The backup is damaged: the table {name} does not match its checksum.")
    return manifest


def _safe_name(member: tarfile.TarInfo) -> str:
    name = PurePosixPath(member.name)
    if (
        not member.isfile()
        or name.is_absolute()
        or ".." in name.parts
        or name.parts[0] not in ("db", "files", "manifest.json", "secret_key")
    ):
        raise Damaged(f"The backup is damaged: unexpected entry {member.name!r}.")
    return name.as_posix()


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
    """Restore a backup onto this (empty) installation; refuses with a reason otherwise.

    The generated secret key in the backup, if any, is written to `secret_path` (the installation
    uses a generated key), so links and codes signed before the backup keep working.
    """
    started = time.monotonic()
    work_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=work_dir, prefix="restore-"))
    try:
        manifest = unpack(source=source, passphrase=passphrase, staging=staging)
        if before_writing is not None:
            before_writing()  # the backup checked out: now the installation may be changed
        migrate.upgrade(engine.url.render_as_string(hide_password=False))
        with engine.connect() as connection:
            head = tables.revision(connection)
            if manifest.get("revision") != head:
                raise RestoreRefused(
                    f"The backup is of schema {manifest.get('revision')} and this installation "
                    f"is at {head}: restore it with the ConsentLens version that made it."
                )
            busy = tables.non_empty(connection)
        existing = [ref for ref, _ in stored_files(media_root)]
        if busy or existing:
            raise RestoreRefused(
                "This installation is not empty "
                f"({', '.join(busy[:5]) or f'{len(existing)} stored files'}): restore onto a new "
                "one (an empty database and media folder)."
            )
        with engine.begin() as connection:
            for table in tables.ordered_tables():
                with (staging / "db" / f"{table.name}.jsonl").open("rb") as lines:
                    tables.insert(
                        connection, table=table, lines=(data.rstrip(b"\n") for data in lines)
                    )
            tables.reset_sequences(connection)
        for ref in manifest.get("files", {}):
            destination = media_root / ref
            if not destination.resolve().is_relative_to(media_root.resolve()):
                raise Damaged(
                    f"The backup is damaged: the file {ref} would leave the media folder."
                )
            private_dir(destination.parent)
            shutil.move(staging / "files" / ref, destination)
            os.chmod(destination, FILE_MODE)
        with tables.snapshot(engine) as connection:
            restored = tables.checksums(connection)
        if restored != manifest["tables"]:
            raise Damaged("The restored database does not match the backup's checksums.")
        secret = staging / "secret_key"
        secret_restored = secret_path is not None and secret.is_file()
        if secret_path is not None and secret.is_file():
            write_private(path=secret_path, data=secret.read_bytes())
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreReport(
        tables=restored,
        files=len(manifest.get("files", {})),
        seconds=time.monotonic() - started,
        secret_restored=secret_restored,
    )


def set_aside(*, engine: Engine, others: list[Path], suffix: str) -> list[Path]:
    """Rename an SQLite installation's database files and `others` (its media folder, its
    generated secret key) out of the way, deleting nothing, so a backup can be restored in their
    place; returns the new names."""
    if engine.dialect.name != "sqlite":
        raise RestoreRefused(
            "Only an SQLite installation can be set aside; restore onto an empty PostgreSQL "
            "database instead."
        )
    engine.dispose()  # no connection may keep the old file open
    moved = []
    for path in [*sqlite_files(engine.url.render_as_string(hide_password=False)), *others]:
        if path.exists():
            aside = path.with_name(f"{path.name}.{suffix}")
            path.rename(aside)
            moved.append(aside)
    return moved
