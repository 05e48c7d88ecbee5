"""Files under the media folder: owner-only, written atomically (the default store)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from consentlens.core.files import FILE_MODE, private_dir
from consentlens.core.storage.base import (
    BadRef,
    Missing,
    StorageUnavailable,
    Store,
    StoredObject,
    TooLarge,
    check_ref,
    folder,
)


class LocalStore(Store):
    """References are paths relative to `root`; none may leave it (links included)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @property
    def description(self) -> str:
        return f"the media folder {self.root}"

    def path_of(self, ref: str) -> Path:
        """The absolute path of a reference; BadRef if it would leave the media folder."""
        path = (self.root / check_ref(ref)).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise BadRef(f"media reference outside the media folder: {ref!r}")
        return path

    def put_file(self, ref: str, *, source: Path) -> str:
        target = self.path_of(ref)
        with self._failures(ref):
            private_dir(target.parent)
            os.chmod(source, FILE_MODE)
            try:
                os.replace(source, target)
            except OSError as error:
                if error.errno != errno.EXDEV:
                    raise
                # Another file system (a media folder on a mount): copy beside, then rename.
                self._write_beside(target, lambda handle: _copy(source, handle))
                source.unlink(missing_ok=True)
            return str(target.stat().st_ino)

    def put_bytes(self, ref: str, *, data: bytes) -> str:
        target = self.path_of(ref)
        with self._failures(ref):
            private_dir(target.parent)
            self._write_beside(target, lambda handle: handle.write(data))
            return str(target.stat().st_ino)

    def read_bytes(self, ref: str, *, max_bytes: int) -> bytes:
        path = self.path_of(ref)
        with self._failures(ref), path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise TooLarge(f"{ref} is larger than {max_bytes} bytes")
        return data

    @contextlib.contextmanager
    def local_copy(self, ref: str) -> Iterator[Path]:
        path = self.path_of(ref)
        if not path.is_file():
            raise Missing(ref)
        yield path

    def exists(self, ref: str) -> bool:
        return self.path_of(ref).is_file()

    def delete(self, ref: str, *, stamp: str | None = None) -> None:
        path = self.path_of(ref)
        with self._failures(ref), contextlib.suppress(FileNotFoundError):
            if stamp is None or str(path.stat().st_ino) == stamp:
                path.unlink()

    def delete_prefix(self, prefix: str) -> int:
        directory = self.root / folder(prefix)
        if not prefix or not directory.resolve().is_relative_to(self.root):
            raise BadRef(f"not a folder of the store: {prefix!r}")
        count = 0
        for stored in list(self.list(prefix)):
            self.delete(stored.ref)
            count += 1
        # What is left are the emptied folders.
        shutil.rmtree(directory, ignore_errors=True)
        return count

    def list(self, prefix: str) -> Iterator[StoredObject]:
        start = self.root / folder(prefix)
        if not start.is_dir() or start.is_symlink():
            return
        for directory, dirs, files in os.walk(start):
            dirs.sort()
            base = Path(directory)
            for name in sorted(files):
                path = base / name
                with contextlib.suppress(FileNotFoundError):  # deleted while listing
                    info = path.lstat()
                    if not path.is_symlink():
                        yield StoredObject(
                            ref=path.relative_to(self.root).as_posix(),
                            modified=datetime.fromtimestamp(info.st_mtime, UTC),
                            size=info.st_size,
                        )

    def check(self) -> None:
        with self._failures(""):
            private_dir(self.root)
            if not os.access(self.root, os.W_OK | os.X_OK):
                raise PermissionError(errno.EACCES, "not writable", str(self.root))

    def _write_beside(self, target: Path, write: Callable[[BinaryIO], object]) -> None:
        # A temporary file in the same folder, renamed over the target: readers see the old
        # file or the new one, never half of one. mkstemp creates it owner-only (0600).
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                write(out)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @contextlib.contextmanager
    def _failures(self, ref: str) -> Iterator[None]:
        """A missing file is Missing; any other failure of the file system is an outage."""
        try:
            yield
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise Missing(ref) from None
        except OSError as error:
            raise StorageUnavailable(f"{self.description}: {error.strerror or error}") from error


def _copy(source: Path, handle: BinaryIO) -> None:
    with source.open("rb") as data:
        shutil.copyfileobj(data, handle)
