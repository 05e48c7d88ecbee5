"""Objects in an S3-compatible bucket (AWS S3, MinIO, SeaweedFS, Ceph, Garage, …).

Every call has bounded timeouts and few retries: when the store is down, a request fails in
seconds with StorageUnavailable instead of hanging a web worker for minutes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from consentlens.core.files import private_dir
from consentlens.core.storage.base import (
    Missing,
    StorageUnavailable,
    Store,
    StoredObject,
    TooLarge,
    check_ref,
    folder,
)

# Seconds. The read timeout bounds each wait for data, not a whole transfer. A store that
# accepts connections and then hangs fails after ATTEMPTS × READ_TIMEOUT; one that refuses
# them within a second.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
# Attempts in all, the first included ("standard" mode retries throttling, 5xx and timeouts).
ATTEMPTS = 2
_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_STAMP = "consentlens-stamp"  # user metadata naming the write, for conditional deletes
_DELETE_BATCH = 1000  # the most DeleteObjects takes at once


class S3Store(Store):
    """Objects under `prefix` in `bucket`; the reference is the key after the prefix."""

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key: str,
        secret_key: str,
        prefix: str = "",
        server_side_encryption: bool = False,
        scratch_dir: Path,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        attempts: int = ATTEMPTS,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.scratch_dir = scratch_dir
        self._extra: dict[str, str] = (
            {"ServerSideEncryption": "AES256"} if server_side_encryption else {}
        )
        # An explicit session and keys: nothing is taken from ~/.aws or the instance's role.
        session = boto3.session.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
        )
        self.client: Any = session.client(
            "s3",
            endpoint_url=self.endpoint_url,
            config=Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"max_attempts": attempts, "mode": "standard"},
                # Path-style addressing works with every S3-compatible server.
                s3={"addressing_style": "path"},
                tcp_keepalive=True,
            ),
        )
        # One thread per transfer: the web server and the pool bring their own concurrency.
        self._transfer = TransferConfig(use_threads=False)

    @property
    def description(self) -> str:
        where = self.endpoint_url or "AWS S3"
        return f"the bucket {self.bucket} at {where}"

    def key(self, ref: str) -> str:
        """The object key of a reference."""
        return self.prefix + check_ref(ref)

    def put_file(self, ref: str, *, source: Path) -> str:
        stamp = uuid.uuid4().hex
        extra = {**self._extra, "Metadata": {_STAMP: stamp}}
        with self._failures(ref):
            # A multipart upload becomes visible only when complete, and is aborted on failure.
            self.client.upload_file(
                str(source), self.bucket, self.key(ref), ExtraArgs=extra, Config=self._transfer
            )
        source.unlink(missing_ok=True)
        return stamp

    def put_bytes(self, ref: str, *, data: bytes) -> str:
        stamp = uuid.uuid4().hex
        with self._failures(ref):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.key(ref),
                Body=data,
                Metadata={_STAMP: stamp},
                **self._extra,
            )
        return stamp

    def read_bytes(self, ref: str, *, max_bytes: int) -> bytes:
        with self._failures(ref):
            response = self.client.get_object(Bucket=self.bucket, Key=self.key(ref))
            body = response["Body"]
            try:
                if response.get("ContentLength", 0) > max_bytes:
                    raise TooLarge(f"{ref} is larger than {max_bytes} bytes")
                data: bytes = body.read(max_bytes + 1)
            finally:
                body.close()
        if len(data) > max_bytes:
            raise TooLarge(f"{ref} is larger than {max_bytes} bytes")
        return data

    @contextlib.contextmanager
    def local_copy(self, ref: str) -> Iterator[Path]:
        key = self.key(ref)
        private_dir(self.scratch_dir)
        # Owner-only, in the media folder's scratch space (swept at start-up if a crash
        # leaves it), named like an interrupted upload.
        handle, name = tempfile.mkstemp(dir=self.scratch_dir, suffix=".part")
        path = Path(name)
        try:
            # Into the file mkstemp made (0600): download_file would rename its own over it,
            # with the permissions of the umask.
            with os.fdopen(handle, "wb") as target, self._failures(ref):
                self.client.download_fileobj(self.bucket, key, target, Config=self._transfer)
            yield path
        finally:
            path.unlink(missing_ok=True)

    def exists(self, ref: str) -> bool:
        try:
            with self._failures(ref):
                self.client.head_object(Bucket=self.bucket, Key=self.key(ref))
        except Missing:
            return False
        return True

    def delete(self, ref: str, *, stamp: str | None = None) -> None:
        key = self.key(ref)
        with contextlib.suppress(Missing), self._failures(ref):
            if stamp is not None:
                head = self.client.head_object(Bucket=self.bucket, Key=key)
                if head.get("Metadata", {}).get(_STAMP) != stamp:
                    return
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        if not prefix:
            raise ValueError("delete_prefix needs a folder, not the whole store")
        keys = [self.key(stored.ref) for stored in self.list(prefix)]
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + _DELETE_BATCH]]
            with self._failures(prefix):
                result = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            if result.get("Errors"):
                first = result["Errors"][0]
                raise StorageUnavailable(
                    f"{self.description}: {len(result['Errors'])} object(s) not deleted "
                    f"({first.get('Code')}: {first.get('Message')})"
                )
        return len(keys)

    def list(self, prefix: str) -> Iterator[StoredObject]:
        start = self.prefix + folder(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        with self._failures(prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
                for item in page.get("Contents", []):
                    key: str = item["Key"]
                    if key.endswith("/"):
                        continue  # a folder marker some tools create
                    yield StoredObject(
                        ref=key[len(self.prefix) :],
                        modified=item["LastModified"].astimezone(UTC),
                        size=item["Size"],
                    )

    def check(self) -> None:
        with self._failures(""):
            self.client.head_bucket(Bucket=self.bucket)

    @contextlib.contextmanager
    def _failures(self, ref: str) -> Iterator[None]:
        """Not found is Missing; anything else the store or the network says is an outage."""
        try:
            yield
        except ClientError as error:
            details = error.response.get("Error", {})
            code = str(details.get("Code", ""))
            if code in _NOT_FOUND and ref:
                raise Missing(ref) from None
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            message = details.get("Message") or code
            raise StorageUnavailable(
                f"{self.description} refused the request (HTTP {status}, {code}: {message})"
            ) from error
        except (BotoCoreError, Boto3Error) as error:
            cause = error.__cause__ or error.__context__
            if isinstance(cause, ClientError):
                code = str(cause.response.get("Error", {}).get("Code", ""))
                if code in _NOT_FOUND and ref:
                    raise Missing(ref) from None
            raise StorageUnavailable(f"{self.description} cannot be reached: {error}") from error
