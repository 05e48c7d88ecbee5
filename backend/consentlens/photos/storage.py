"""Where photo files live: originals (never served) and rendered derivatives, in the store.

References in the database are relative (`originals/<organisation>/<xx>/<sha256>.<ext>`), the
same for the local media folder and for object storage, so either can move.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from consentlens.core import storage as stores
from consentlens.core import transactions
from consentlens.core.config import get_settings
from consentlens.core.files import private_dir
from consentlens.photos.models import Photo

log = logging.getLogger(__name__)

ORIGINALS = "originals"
DERIVATIVES = "derivatives"
# Older leftovers of an upload cannot belong to one still in progress (uploads take seconds).
STALE_AFTER = timedelta(minutes=30)
# A rendering is at most a few megabytes; anything larger under that name is not one of ours.
DERIVATIVE_MAX_BYTES = 32 * 1024 * 1024


def media_root() -> Path:
    return get_settings().resolved_media_dir


def incoming_dir() -> Path:
    """Uploads land here first; with the local store on the same file system, so keeping one
    is a rename."""
    return private_dir(media_root() / stores.SCRATCH)


def new_incoming_file() -> Path:
    handle, name = tempfile.mkstemp(dir=incoming_dir(), suffix=".part")
    os.close(handle)
    return Path(name)


def original_ref(*, organisation_id: int, sha256: str, extension: str) -> str:
    return f"{ORIGINALS}/{organisation_id}/{sha256[:2]}/{sha256}.{extension}"


def path_of(ref: str) -> Path:
    """Where the local store keeps a reference (refuses one that leaves the media folder).

    Only meaningful with the local store: code that reads files uses `local_copy`.
    """
    return stores.LocalStore(media_root()).path_of(ref)


def local_copy(ref: str) -> AbstractContextManager[Path]:
    """A local file with the original (or any stored file), for as long as the block runs."""
    return stores.get_store().local_copy(ref)


def keep(*, incoming: Path, ref: str, session: Session) -> None:
    """Put an inspected upload into the store (owner-only for the local store).

    Call it after the photo's row is flushed: the file is in place before the row commits (so
    the worker never finds a row without its file) and removed again if the row does not
    commit. A crash in between leaves a file no row points to, which `sweep` removes. When the
    store is down this raises StorageUnavailable and nothing is stored.
    """
    store = stores.get_store()
    stamp = store.put_file(ref, source=incoming)
    transactions.on_rollback(session=session, action=lambda: store.delete(ref, stamp=stamp))


def remove(ref: str) -> None:
    stores.get_store().delete(ref)


def derivative_prefix(photo_id: int) -> str:
    return f"{DERIVATIVES}/{photo_id}/"


def derivative_ref(*, photo_id: int, name: str) -> str:
    return derivative_prefix(photo_id) + name


def derivative_dir(photo_id: int) -> Path:
    """Where the local store keeps a photo's renderings (see `path_of`)."""
    return media_root() / DERIVATIVES / str(photo_id)


def derivative_names(photo_id: int) -> set[str]:
    """The names of the renderings stored for a photo (one listing, not a lookup per name)."""
    prefix = derivative_prefix(photo_id)
    return {stored.ref[len(prefix) :] for stored in stores.get_store().list(prefix)}


def read_derivative(*, photo_id: int, name: str) -> bytes | None:
    """A stored rendering, or None when it has not been made (or was removed)."""
    try:
        return stores.get_store().read_bytes(
            derivative_ref(photo_id=photo_id, name=name), max_bytes=DERIVATIVE_MAX_BYTES
        )
    except stores.Missing:
        return None


def put_derivative(*, photo_id: int, name: str, data: bytes) -> None:
    stores.get_store().put_bytes(derivative_ref(photo_id=photo_id, name=name), data=data)


def remove_derivatives(
    *, photo_id: int, keep_names: set[str] | None = None, strict: bool = False
) -> None:
    """Delete a photo's cached renderings, except those still current.

    Renderings are named by what they cover, so one left behind is never served; failing to
    delete it must not undo the change of verdict that made it stale (it is logged). `strict`
    (the render job, which is retried) raises instead: a rendering that showed a face whose
    consent was withdrawn must not stay in the store for good.
    """
    store = stores.get_store()
    prefix = derivative_prefix(photo_id)
    try:
        if keep_names is None:
            store.delete_prefix(prefix)
            return
        for stored in list(store.list(prefix)):
            if stored.ref[len(prefix) :] not in keep_names:
                store.delete(stored.ref)
    except stores.StorageUnavailable as error:
        if strict:
            raise
        log.warning("photo %s: stale renderings not deleted now: %s", photo_id, error)


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
    cutoff = now - stale_after
    removed = 0
    for path in incoming_dir().glob("*.part"):
        try:
            if path.stat().st_mtime < cutoff.timestamp():
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    store = stores.get_store()
    for chunk in _chunks(
        stored.ref for stored in store.list(ORIGINALS) if stored.modified < cutoff
    ):
        referenced = set(
            session.exec(select(Photo.original_ref).where(col(Photo.original_ref).in_(chunk)))
        )
        for ref in chunk:
            if ref not in referenced:
                store.delete(ref)
                removed += 1
    return removed


def _chunks(refs: Iterator[str], size: int = 500) -> Iterator[list[str]]:
    chunk: list[str] = []
    for ref in refs:
        chunk.append(ref)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
