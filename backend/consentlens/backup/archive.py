"""`consentlens backup`: one sealed file with the database and the stored files.

Inside the sealed stream (`sealing`) is a tar stream: `db/<table>.jsonl` for every table (one
consistent snapshot, `tables.snapshot`), `files/<ref>` for every stored file (originals, paper
scans, logos; renderings are left out and made again on request), and `manifest.json` last, with
the schema revision and the checksum of every table and file.

`restoring` reads it back.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine

from consentlens.backup import tables
from consentlens.backup.sealing import BackupRefused, KeyCost, SealedWriter
from consentlens.core.config import Settings
from consentlens.core.files import FILE_MODE

FORMAT = 1
# Renderings are made again from the originals; uploads in progress are not data yet.
LEFT_OUT = ("derivatives", "incoming")
_READ = 1 << 20


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    size: int
    seconds: float
    tables: dict[str, dict[str, Any]]
    files: int
    # Files whose rows were in the snapshot but which were deleted before they were copied.
    vanished: list[str] = field(default_factory=list)


def refuse_object_storage(settings: Settings) -> None:
    """Backups hold the media folder's files: refuse, saying so, when the files are in S3."""
    if settings.storage != "local":
        raise BackupRefused(
            "The stored files are in object storage (CONSENTLENS_STORAGE=s3), which "
            "`consentlens backup` and `restore` do not cover yet: back up the bucket with the "
            "storage provider's own tools (versioning or replication) and the database with "
            "its own (pg_dump)."
        )


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
