"""Where photo files live: originals (never served) and rendered derivatives, under the media dir.

Paths in the database are relative to the media directory, so the directory can move.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from consentlens.core.config import get_settings

ORIGINALS = "originals"
DERIVATIVES = "derivatives"


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


def original_ref(organisation_id: int, sha256: str, extension: str) -> str:
    return f"{ORIGINALS}/{organisation_id}/{sha256[:2]}/{sha256}.{extension}"


def path_of(ref: str) -> Path:
    """The absolute path of a stored file; refuses references that leave the media directory."""
    root = media_root()
    path = (root / ref).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"media reference outside the media directory: {ref!r}")
    return path


def keep(incoming: Path, ref: str) -> Path:
    """Move an inspected upload to its final, private place (owner-only permissions)."""
    target = path_of(ref)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(incoming, 0o600)
    os.replace(incoming, target)
    return target


def remove(ref: str) -> None:
    path_of(ref).unlink(missing_ok=True)


def derivative_dir(photo_id: int) -> Path:
    return media_root() / DERIVATIVES / str(photo_id)


def remove_derivatives(photo_id: int, keep_names: set[str] | None = None) -> None:
    """Delete a photo's cached renderings, except those still current."""
    directory = derivative_dir(photo_id)
    if keep_names is None:
        shutil.rmtree(directory, ignore_errors=True)
        return
    if directory.is_dir():
        for path in directory.iterdir():
            if path.name not in keep_names:
                path.unlink(missing_ok=True)


def remove_after_commit(session: Session, refs: list[str], photo_ids: list[int]) -> None:
    """Delete originals and derivatives once the transaction deleting their rows has committed.

    Deleting first would leave rows without files if the commit failed; after the commit, a
    crash at worst leaves an orphaned file, which holds nothing a row still points to.
    """
    pending = session.info.setdefault("photo_files_to_remove", ([], []))
    pending[0].extend(refs)
    pending[1].extend(photo_ids)
    if not event.contains(session, "after_commit", _remove_pending):
        event.listen(session, "after_commit", _remove_pending)
        event.listen(session, "after_rollback", _forget_pending)


def _remove_pending(session: Session) -> None:
    refs, photo_ids = session.info.pop("photo_files_to_remove", ([], []))
    for ref in refs:
        remove(ref)
    for photo_id in photo_ids:
        remove_derivatives(photo_id)


def _forget_pending(session: Session) -> None:
    session.info.pop("photo_files_to_remove", None)
