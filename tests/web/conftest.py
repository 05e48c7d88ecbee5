"""A real server (`consentlens serve` on a fresh SQLite file with the demo club) and Chromium."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class LiveServer:
    url: str
    var: Path

    def __str__(self) -> str:
        return self.url


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A demo club of the module's own, for tests that change club-wide state (a new season)."""
    with serving(tmp_path_factory.mktemp("own")) as server:
        yield server


@contextlib.contextmanager
def serving(var: Path) -> Iterator[LiveServer]:
    """`consentlens serve` on a fresh SQLite file under `var`, with the demo club."""
    env = {**os.environ, "CONSENTLENS_VAR_DIR": str(var), "CONSENTLENS_ENV": "development"}
    env.pop("CONSENTLENS_DATABASE_URL", None)
    # As `make run`: the embedded photo worker analyses uploads (one process: 2 cores here, and
    # pytest needs one).
    env["CONSENTLENS_RUN_WORKER"] = "true"
    env["CONSENTLENS_WORKER_PROCESSES"] = "1"
    cli = [sys.executable, "-m", "consentlens.cli"]
    for step in (["migrate"], ["demo", "--if-empty"]):
        subprocess.run([*cli, *step], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    env["CONSENTLENS_BASE_URL"] = f"http://127.0.0.1:{port}"
    log = (var / "server.log").open("w")
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((var / "server.log").read_text()) from None
            time.sleep(0.2)
    try:
        yield LiveServer(base, var)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/test-prerequisites.sh`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
