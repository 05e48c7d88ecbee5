"""One interface for every stored file: the local media folder (default) or S3-compatible object
storage, chosen by `CONSENTLENS_STORAGE`. Imports no domain: the rooms name their own refs."""

from __future__ import annotations

import os
import threading

from consentlens.core.config import Settings, get_settings
from consentlens.core.storage.base import (
    BadRef,
    Missing,
    StorageError,
    StorageUnavailable,
    Store,
    StoredObject,
    TooLarge,
    check_ref,
)
from consentlens.core.storage.local import LocalStore

__all__ = [
    "SCRATCH",
    "BadRef",
    "LocalStore",
    "Missing",
    "StorageError",
    "StorageUnavailable",
    "Store",
    "StoredObject",
    "TooLarge",
    "build_store",
    "check_ref",
    "get_store",
]

# Local files in flight (uploads being inspected, downloads being decoded), whatever the store:
# a folder of the media folder, left out of backups and swept of leftovers at start-up.
SCRATCH = "incoming"

_lock = threading.Lock()
_cached: tuple[tuple[object, ...], Store] | None = None


def build_store(settings: Settings) -> Store:
    """The store the settings describe (a new one: prefer `get_store`)."""
    if settings.storage == "local":
        return LocalStore(settings.resolved_media_dir)
    # Imported only when used: boto3 takes a noticeable time to import.
    from consentlens.core.storage.s3 import S3Store

    return S3Store(
        bucket=settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url or None,
        region=settings.s3_region,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        prefix=settings.s3_prefix,
        server_side_encryption=settings.s3_server_side_encryption,
        scratch_dir=settings.resolved_media_dir / SCRATCH,
    )


def get_store() -> Store:
    """The configured store, built once per process and per settings."""
    global _cached
    settings = get_settings()
    # The process id too: a client's connections must not be shared with a forked child.
    key = (
        os.getpid(),
        settings.storage,
        settings.resolved_media_dir,
        settings.s3_bucket,
        settings.s3_endpoint_url,
        settings.s3_region,
        settings.s3_access_key,
        settings.s3_secret_key,
        settings.s3_prefix,
        settings.s3_server_side_encryption,
    )
    with _lock:
        if _cached is None or _cached[0] != key:
            _cached = (key, build_store(settings))
        return _cached[1]
