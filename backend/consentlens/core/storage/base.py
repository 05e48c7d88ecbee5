"""The interface every stored file goes through, and the errors it raises.

A reference (`ref`) is a relative POSIX path such as `originals/3/ab/ab….jpg`: a file under the
media folder for the local store, an object key (after the prefix) for S3. The same reference
means the same file in either, so an installation can move between them by copying.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath


class StorageError(Exception):
    """Base of the storage errors."""


class StorageUnavailable(StorageError):
    """The store cannot be used right now (unreachable, refusing, timing out, full, denied).

    The message is plain words for the operator's log; users are shown a fixed sentence.
    """


class Missing(StorageError, LookupError):
    """No stored file under this reference."""


class TooLarge(StorageError, ValueError):
    """A stored file larger than the caller is prepared to read."""


class BadRef(StorageError, ValueError):
    """A reference that is not a plain relative path inside the store."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    ref: str
    modified: datetime  # UTC-aware
    size: int


def check_ref(ref: str) -> str:
    """The reference if it names a file inside the store; BadRef otherwise."""
    path = PurePosixPath(ref)
    if (
        not ref
        or not path.parts  # "."
        or ref != path.as_posix()  # doubled or trailing slashes, "./"
        or path.is_absolute()
        or "\\" in ref
        or "\x00" in ref
        or any(part in ("", ".", "..") for part in path.parts)
    ):
        raise BadRef(f"not a stored file's reference: {ref!r}")
    return ref


def folder(prefix: str) -> str:
    """A listing prefix as a folder: "" (everything) or a checked reference ending in "/"."""
    if prefix == "":
        return ""
    return check_ref(prefix.rstrip("/")) + "/"


class Store(abc.ABC):
    """Where files are kept: the local media folder or an S3-compatible bucket."""

    @abc.abstractmethod
    def put_file(self, ref: str, *, source: Path) -> str:
        """Move (or upload) a finished local file to `ref`: visible whole or not at all.

        The local file is gone afterwards. Returns a stamp naming this write, for `delete`.
        """

    @abc.abstractmethod
    def put_bytes(self, ref: str, *, data: bytes) -> str:
        """Store `data` at `ref`, replacing what was there, atomically; returns its stamp."""

    @abc.abstractmethod
    def read_bytes(self, ref: str, *, max_bytes: int) -> bytes:
        """The stored file's content; Missing if there is none, TooLarge beyond `max_bytes`."""

    @abc.abstractmethod
    def local_copy(self, ref: str) -> AbstractContextManager[Path]:
        """A local file with the content, for decoders, valid inside the `with` block only."""

    @abc.abstractmethod
    def exists(self, ref: str) -> bool:
        """Whether a file is stored under `ref`."""

    @abc.abstractmethod
    def delete(self, ref: str, *, stamp: str | None = None) -> None:
        """Remove the file (no error if there is none).

        With a stamp, only if the file is still the one that write put there: another upload
        of the same content may have taken the place since.
        """

    @abc.abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Remove every file in the folder `prefix`; returns how many."""

    @abc.abstractmethod
    def list(self, prefix: str) -> Iterator[StoredObject]:
        """Every file in the folder `prefix` ("" for all), its subfolders included, by ref."""

    @abc.abstractmethod
    def check(self) -> None:
        """StorageUnavailable unless the store can be used now (the health check)."""

    @property
    @abc.abstractmethod
    def description(self) -> str:
        """Where the files are, for messages (no secrets)."""
