"""Owner-only files: the database, paper scans, import files, e-mails holding sign-in links, photos.

Three layers, because any one alone has been forgotten before: the process umask (set once by
every entry point, so whatever a library creates is private), explicit modes where ConsentLens
writes a file, and a repair at start-up of files an older version left readable by others.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from consentlens.core.config import Settings

log = logging.getLogger(__name__)

OWNER_ONLY_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create a directory and its missing parents, each readable by the owner only."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    # mkdir's mode is masked by the umask and ignored for parents: set it on each one created.
    for created in missing:
        os.chmod(created, DIR_MODE)
    return path


def write_private(*, path: Path, data: bytes) -> None:
    """Write a file readable and writable by its owner only, whatever the umask."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        # O_CREAT's mode applies only to a new file: an existing one is narrowed here.
        os.fchmod(handle.fileno(), FILE_MODE)
        handle.write(data)


def restrict_tree(root: Path) -> int:
    """Take group and other permissions off everything under `root`; returns how many changed."""
    if not root.exists() or root.is_symlink():
        return 0
    changed = _restrict(root, DIR_MODE if root.is_dir() else FILE_MODE)
    if not root.is_dir():
        return changed
    for directory, dirs, files in os.walk(root):
        base = Path(directory)
        for name in dirs:
            changed += _restrict(base / name, DIR_MODE)
        for name in files:
            changed += _restrict(base / name, FILE_MODE)
    return changed


def _restrict(path: Path, mode: int) -> int:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not info.st_mode & 0o077:
        return 0
    os.chmod(path, mode)
    return 1


def sqlite_files(url: str) -> list[Path]:
    """The database file of an SQLite URL and its companions (WAL, shared memory, journal)."""
    if not url.startswith("sqlite") or ":memory:" in url:
        return []
    database = Path(url.split(":///", 1)[-1].split("?", 1)[0])
    companions = ("-wal", "-shm", "-journal")
    return [database, *(database.with_name(database.name + suffix) for suffix in companions)]


def secure_storage(settings: Settings) -> None:
    """Make this process create owner-only files, and repair what older versions left readable.

    Called once by every entry point (create_app, the CLI). Only ConsentLens's own paths are
    walked, never the whole var_dir, which an admin may have pointed at a shared folder.
    """
    os.umask(OWNER_ONLY_UMASK)
    var_dir = settings.var_dir.resolve()
    roots: Iterable[Path] = (
        var_dir / "secret_key",
        settings.outbox_dir,
        var_dir / "imports",
        settings.resolved_media_dir,
        *sqlite_files(settings.resolved_database_url),
    )
    changed = sum(restrict_tree(root) for root in roots)
    if var_dir.is_dir():
        changed += _restrict(var_dir, DIR_MODE)
    if changed:
        log.warning("made %s file(s) and folder(s) readable by their owner only", changed)
