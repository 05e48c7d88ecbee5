"""The store interface, the same tests on the local media folder and on a real S3 server
(SeaweedFS): what is put is read back, listed and deleted; reads are bounded; references that
leave the store are refused; an outage is StorageUnavailable within seconds."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consentlens.core.config import Settings
from consentlens.core.storage import (
    BadRef,
    LocalStore,
    Missing,
    StorageUnavailable,
    Store,
    TooLarge,
    build_store,
)
from consentlens.core.storage.s3 import S3Store
from tests.seaweed import S3Server, closed_port, running_s3

PREFIX = "consentlens/"


def s3_store(server: S3Server, bucket: str, tmp_path: Path, **options) -> S3Store:
    settings = {
        "bucket": bucket,
        "endpoint_url": server.endpoint,
        "region": "us-east-1",
        "access_key": server.access_key,
        "secret_key": server.secret_key,
        "scratch_dir": tmp_path / "scratch",
        **options,
    }
    return S3Store(**settings)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> Store:
    if request.param == "local":
        return LocalStore(tmp_path / "media")
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    return s3_store(server, bucket, tmp_path, prefix=PREFIX)


def written(tmp_path: Path, data: bytes, name: str = "upload.part") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_what_is_put_is_read_back_and_deleted(store, tmp_path):
    assert not store.exists("evidence/1/a.pdf")
    store.put_bytes("evidence/1/a.pdf", data=b"%PDF- a signed form")
    assert store.exists("evidence/1/a.pdf")
    assert store.read_bytes("evidence/1/a.pdf", max_bytes=100) == b"%PDF- a signed form"
    store.put_bytes("evidence/1/a.pdf", data=b"replaced")
    assert store.read_bytes("evidence/1/a.pdf", max_bytes=100) == b"replaced"
    store.put_bytes("logos/empty.png", data=b"")
    assert store.read_bytes("logos/empty.png", max_bytes=0) == b""
    store.delete("evidence/1/a.pdf")
    store.delete("evidence/1/a.pdf")  # deleting what is gone is no error
    assert not store.exists("evidence/1/a.pdf")
    with pytest.raises(Missing):
        store.read_bytes("evidence/1/a.pdf", max_bytes=100)
    with pytest.raises(Missing), store.local_copy("evidence/1/a.pdf"):
        pass


def test_put_file_moves_a_finished_file_in(store, tmp_path):
    data = os.urandom(9 << 20)  # past boto3's multipart threshold (8 MB)
    source = written(tmp_path, data)
    store.put_file("originals/1/ab/ab12.jpg", source=source)
    assert not source.exists()
    assert store.read_bytes("originals/1/ab/ab12.jpg", max_bytes=len(data)) == data
    with store.local_copy("originals/1/ab/ab12.jpg") as copy:
        assert copy.read_bytes() == data
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    if isinstance(store, S3Store):
        assert not copy.exists(), "the private download outlives its use"
        assert list((tmp_path / "scratch").iterdir()) == []


def test_local_files_are_owner_only_and_written_atomically(tmp_path):
    store = LocalStore(tmp_path / "media")
    store.put_bytes("evidence/7/scan.png", data=b"\x89PNG")
    store.put_file("originals/7/cd/cd.jpg", source=written(tmp_path, b"jpeg"))
    root = tmp_path / "media"
    for path in (root / "evidence", root / "evidence/7", root / "originals/7/cd"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    for path in (root / "evidence/7/scan.png", root / "originals/7/cd/cd.jpg"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # No temporary file is left beside what was written.
    assert sorted(p.name for p in (root / "evidence/7").iterdir()) == ["scan.png"]


def test_reads_are_bounded(store):
    store.put_bytes("derivatives/1/big.jpg", data=b"x" * 1000)
    assert store.read_bytes("derivatives/1/big.jpg", max_bytes=1000) == b"x" * 1000
    with pytest.raises(TooLarge):
        store.read_bytes("derivatives/1/big.jpg", max_bytes=999)


def test_listing_and_deleting_a_folder(store):
    before = datetime.now(UTC) - timedelta(minutes=5)
    for ref in (
        "derivatives/1/a.jpg",
        "derivatives/1/b.jpg",
        "derivatives/12/a.jpg",
        "logos/x.png",
    ):
        store.put_bytes(ref, data=ref.encode())
    listed = list(store.list("derivatives/1"))
    assert [item.ref for item in listed] == ["derivatives/1/a.jpg", "derivatives/1/b.jpg"]
    assert all(before < item.modified < datetime.now(UTC) + timedelta(minutes=5) for item in listed)
    assert [item.size for item in listed] == [len(b"derivatives/1/a.jpg")] * 2
    assert [item.ref for item in store.list("")] == [
        "derivatives/1/a.jpg",
        "derivatives/1/b.jpg",
        "derivatives/12/a.jpg",
        "logos/x.png",
    ]
    assert list(store.list("nothing/here/")) == []
    # A folder, not a string prefix: photo 1's renderings are not photo 12's.
    assert store.delete_prefix("derivatives/1") == 2
    assert [item.ref for item in store.list("")] == ["derivatives/12/a.jpg", "logos/x.png"]
    assert store.delete_prefix("derivatives/1/") == 0


def test_a_delete_with_a_stamp_spares_a_later_write(store, tmp_path):
    first = store.put_file("originals/1/ab/same.jpg", source=written(tmp_path, b"one"))
    # A rolled-back upload's clean-up, after another upload of the same file took its place.
    second = store.put_file("originals/1/ab/same.jpg", source=written(tmp_path, b"two"))
    assert first != second
    store.delete("originals/1/ab/same.jpg", stamp=first)
    assert store.read_bytes("originals/1/ab/same.jpg", max_bytes=10) == b"two"
    store.delete("originals/1/ab/same.jpg", stamp=second)
    assert not store.exists("originals/1/ab/same.jpg")


@pytest.mark.parametrize(
    "ref",
    ["", "../outside", "a/../../outside", "/etc/passwd", "a//b", "a/./b", "a\\..\\b", "a\x00b",
     "a/", "."],
)  # fmt: skip
def test_references_that_leave_the_store_are_refused(store, ref, tmp_path):
    for attempt in (
        lambda: store.put_bytes(ref, data=b"x"),
        lambda: store.read_bytes(ref, max_bytes=10),
        lambda: store.exists(ref),
        lambda: store.delete(ref),
        lambda: store.put_file(ref, source=written(tmp_path, b"x")),
    ):
        with pytest.raises(BadRef):
            attempt()
    with pytest.raises(BadRef), store.local_copy(ref):
        pass


def test_a_link_out_of_the_media_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"another installation's file")
    store = LocalStore(tmp_path / "media")
    store.check()
    (tmp_path / "media" / "evidence").symlink_to(outside)
    with pytest.raises(BadRef):
        store.read_bytes("evidence/secret", max_bytes=100)
    with pytest.raises(BadRef):
        store.put_bytes("evidence/new", data=b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]


def test_keys_carry_the_prefix(s3_server, s3_bucket, tmp_path):
    store = s3_store(s3_server, s3_bucket, tmp_path, prefix="/one/installation/")
    store.put_bytes("logos/a.png", data=b"png")
    assert s3_server.keys(s3_bucket) == {"one/installation/logos/a.png"}
    # Another installation's objects in the same bucket are not this store's.
    s3_server.client().put_object(Bucket=s3_bucket, Key="other/logos/b.png", Body=b"png")
    assert [item.ref for item in store.list("")] == ["logos/a.png"]


def test_server_side_encryption_is_asked_for_on_every_write(s3_server, s3_bucket, tmp_path):
    encrypted = s3_store(s3_server, s3_bucket, tmp_path, server_side_encryption=True)
    plain = s3_store(s3_server, s3_bucket, tmp_path)
    encrypted.put_bytes("evidence/1/scan.pdf", data=b"%PDF-")
    encrypted.put_file("originals/1/ab/ab.jpg", source=written(tmp_path, os.urandom(9 << 20)))
    plain.put_bytes("logos/plain.png", data=b"png")
    client = s3_server.client()

    def encryption(key: str) -> str | None:
        return client.head_object(Bucket=s3_bucket, Key=key).get("ServerSideEncryption")

    assert encryption("evidence/1/scan.pdf") == "AES256"
    assert encryption("originals/1/ab/ab.jpg") == "AES256"
    assert encryption("logos/plain.png") is None
    assert encrypted.read_bytes("evidence/1/scan.pdf", max_bytes=10) == b"%PDF-"


def test_access_keys_are_enforced(s3_server, s3_bucket, tmp_path):
    wrong = s3_store(s3_server, s3_bucket, tmp_path, secret_key="not-the-secret")
    with pytest.raises(StorageUnavailable, match="SignatureDoesNotMatch"):
        wrong.put_bytes("logos/a.png", data=b"png")
    with pytest.raises(StorageUnavailable):
        wrong.check()
    assert s3_server.keys(s3_bucket) == set()


def test_a_missing_bucket_is_an_outage_not_a_missing_file(s3_server, tmp_path):
    store = s3_store(s3_server, "no-such-bucket-here", tmp_path)
    with pytest.raises(StorageUnavailable):
        store.check()
    with pytest.raises(StorageUnavailable):
        store.read_bytes("logos/a.png", max_bytes=10)


def outage_checks(store: Store, tmp_path: Path) -> None:
    """Every operation fails with StorageUnavailable, each within a few seconds."""
    source = written(tmp_path, b"a photo", "kept.part")
    for attempt in (
        store.check,
        lambda: store.put_file("originals/1/ab/ab.jpg", source=source),
        lambda: store.put_bytes("logos/a.png", data=b"png"),
        lambda: store.read_bytes("logos/a.png", max_bytes=10),
        lambda: store.exists("logos/a.png"),
        lambda: store.delete("logos/a.png"),
        lambda: list(store.list("")),
        lambda: store.delete_prefix("derivatives/1"),
    ):
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as raised:
            attempt()
        assert time.monotonic() - started < 5
        assert str(raised.value)  # a message for the log
    with pytest.raises(StorageUnavailable), store.local_copy("logos/a.png"):
        pass
    assert source.read_bytes() == b"a photo", "a failed upload keeps the local file"
    assert list((tmp_path / "scratch").glob("*")) == []


def test_a_refused_connection_is_an_outage_within_seconds(tmp_path):
    store = S3Store(
        bucket="photos",
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        region="us-east-1",
        access_key="key",
        secret_key="secret",
        scratch_dir=tmp_path / "scratch",
    )
    outage_checks(store, tmp_path)


def test_a_server_that_stops_answering_is_an_outage_within_seconds(tmp_path):
    # Accepts connections and never answers: only the read timeout ends the wait.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        store = S3Store(
            bucket="photos",
            endpoint_url=f"http://127.0.0.1:{listener.getsockname()[1]}",
            region="us-east-1",
            access_key="key",
            secret_key="secret",
            scratch_dir=tmp_path / "scratch",
            read_timeout=1,
        )
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            store.read_bytes("logos/a.png", max_bytes=10)
        assert time.monotonic() - started < 5
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def test_a_stopped_server_is_an_outage(tmp_path):
    with running_s3(tmp_path / "second") as server:
        bucket = server.new_bucket()
        store = s3_store(server, bucket, tmp_path)
        store.put_bytes("logos/a.png", data=b"png")
        store.check()
        server.stop()
        outage_checks(store, tmp_path)


def test_the_settings_choose_the_store(tmp_path):
    local = build_store(Settings(var_dir=tmp_path))
    assert isinstance(local, LocalStore) and local.root == (tmp_path / "media").resolve()
    s3 = build_store(
        Settings(
            var_dir=tmp_path,
            storage="s3",
            s3_bucket="photos",
            s3_endpoint_url="http://127.0.0.1:9",
            s3_access_key="key",
            s3_secret_key="secret",
            s3_prefix="club",
        )
    )
    assert isinstance(s3, S3Store) and s3.bucket == "photos" and s3.prefix == "club/"
    assert s3.scratch_dir == (tmp_path / "media" / "incoming").resolve()
