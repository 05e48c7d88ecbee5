"""Where photo files live: originals (never served) and rendered derivatives, under the media dir.

Paths in the database are relative to the media directory, so the directory can move.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from consentlens.core import transactions
from consentlens.core.config import get_settings
from consentlens.photos.models import Photo

ORIGINALS = "originals"
DERIVATIVES = "derivatives"
# Older leftovers of an upload cannot belong to one still in progress (uploads take seconds).
STALE_AFTER = timedelta(minutes=30)


def media_root() -> Path:
    return get_settings().resolved_media_dir


def incoming_dir() -> Path:
    """Uploads land here first, on the same file system, so keeping one is a rename."""
    path = media_root() / "incoming"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def new_incoming_file() -> Path:
    handle, name = tempfile.mkstemp(dir=incoming_dir(), suffix=".part")
    os.close(handle)
    return Path(name)


def original_ref(*, organisation_id: int, sha256: str, extension: str) -> str:
    return f"{ORIGINALS}/{organisation_id}/{sha256[:2]}/{sha256}.{extension}"


def path_of(ref: str) -> Path:
    """The absolute path of a stored file; refuses references that leave the media directory."""
    root = media_root()
    path = (root / ref).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"media reference outside the media directory: {ref!r}")
    return path


def keep(*, incoming: Path, ref: str, session: Session) -> Path:
    """Move an inspected upload to its final, private place (owner-only permissions).

    Call it after the photo's row is flushed: the file is in place before the row commits (so
    the worker never finds a row without its file) and removed again if the row does not
    commit. A crash in between leaves a file no row points to, which `sweep` removes.
    """
    target = path_of(ref)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(incoming, 0o600)
    os.replace(incoming, target)
    kept = target.stat().st_ino
    transactions.on_rollback(session=session, action=lambda: _remove_if_same(target, kept))
    return target


def _remove_if_same(path: Path, inode: int) -> None:
    # Another upload of the same file may have taken the place once our row was rolled back.
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_ino == inode:
            path.unlink()


def remove(ref: str) -> None:
    path_of(ref).unlink(missing_ok=True)


def derivative_dir(photo_id: int) -> Path:
    return media_root() / DERIVATIVES / str(photo_id)


def remove_derivatives(*, photo_id: int, keep_names: set[str] | None = None) -> None:
    """Delete a photo's cached renderings, except those still current."""
    directory = derivative_dir(photo_id)
    if keep_names is None:
        shutil.rmtree(directory, ignore_errors=True)
        return
    if directory.is_dir():
        for path in directory.iterdir():
            if path.name not in keep_names:
                path.unlink(missing_ok=True)


def remove_after_commit(*, session: Session, refs: list[str], photo_ids: list[int]) -> None:
    """Delete originals and derivatives once the transaction deleting their rows has committed.

    Deleting first would leave rows without files if the commit failed; after the commit, a
    crash at worst leaves an orphaned file, which holds nothing a row still points to.
    """
    refs, photo_ids = list(refs), list(photo_ids)

    def remove_files() -> None:
        for ref in refs:
            remove(ref)
        for photo_id in photo_ids:
            remove_derivatives(photo_id=photo_id)

    transactions.on_commit(session=session, action=remove_files)


def sweep(*, session: Session, now: datetime, stale_after: timedelta = STALE_AFTER) -> int:
    """Delete what interrupted uploads left behind: incoming files, and originals no row points
    to (a crash between putting the file in place and committing its row). Run at start-up.

    Only files older than `stale_after` go: younger ones may belong to an upload in progress in
    another process. Returns how many files were deleted.
    """
    cutoff = (now - stale_after).timestamp()
    removed = 0
    for path in incoming_dir().glob("*.part"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    root = media_root()
    candidates = [
        path
        for path in (root / ORIGINALS).glob("*/*/*")
        if path.is_file() and path.stat().st_mtime < cutoff
    ]
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        batch = {path.relative_to(root).as_posix(): path for path in chunk}
        referenced = set(
            session.exec(select(Photo.original_ref).where(col(Photo.original_ref).in_(batch)))
        )
        for ref, path in batch.items():
            if ref not in referenced:
                path.unlink(missing_ok=True)
                removed += 1
    return removed
