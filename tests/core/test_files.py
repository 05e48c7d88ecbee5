"""Owner-only files: what ConsentLens writes is 0600 (folders 0700) whatever the umask, every
entry point sets an owner-only umask, and start-up repairs what was left readable by others."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from consentlens.consent import evidence
from consentlens.core.config import Settings, get_settings
from consentlens.core.db import make_engine
from consentlens.core.mail import Mail, OutboxMailer
from consentlens.main import create_app
from consentlens.people import import_pages
from tests.images import png_bytes


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def lax_umask() -> Iterator[None]:
    """The umask of a careless shell (022): the code, not the umask, must make files private."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_scans_imports_and_outbox_mails_are_owner_only_whatever_the_umask(lax_umask, tmp_path, db):
    reference = evidence.store_scan(session=db, data=png_bytes(), organisation_id=987_654_321)
    scan = get_settings().resolved_media_dir / reference
    assert mode(scan) == 0o600 and mode(scan.parent) == 0o700

    mail = OutboxMailer(tmp_path / "var" / "outbox", "club@example.test").send(
        Mail(to="parent@example.test", subject="Sign in", text="https://x.test/c/secret")
    )
    assert mode(mail) == 0o600
    assert mode(mail.parent) == 0o700 and mode(mail.parent.parent) == 0o700

    token = import_pages.store_upload(
        organisation=SimpleNamespace(id=987_654_321), data=b"first,last\n", filename="team.csv"
    )
    pending = import_pages.read_token(
        token=token, organisation=SimpleNamespace(id=987_654_321), max_age=60
    )
    upload = import_pages._folder() / f"{pending.file_id}.csv"
    assert mode(upload) == 0o600


def test_the_sqlite_database_and_its_wal_are_owner_only(lax_umask, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'consentlens.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        files = sorted(tmp_path.glob("consentlens.db*"))
        assert {f.name for f in files} >= {"consentlens.db", "consentlens.db-wal"}
        assert all(mode(f) == 0o600 for f in files), [(f.name, oct(mode(f))) for f in files]
    engine.dispose()


def test_the_app_factory_sets_the_umask_and_repairs_old_files(lax_umask, tmp_path):
    var = tmp_path / "var"
    readable = {
        var / "secret_key": b"x" * 64,
        var / "consentlens.db": b"",
        var / "outbox" / "old.eml": b"https://x.test/c/secret",
        var / "imports" / "old.csv": b"first,last\n",
        var / "media" / "evidence" / "1" / "old.pdf": b"%PDF-1.7\n%%EOF",
    }
    for path, data in readable.items():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        path.write_bytes(data)
        os.chmod(path, 0o644)
    elsewhere = var / "notes-of-the-admin.txt"  # not ConsentLens's: left as it is
    elsewhere.write_text("mine")
    os.chmod(elsewhere, 0o644)

    create_app(Settings(var_dir=var, env="test", run_worker=False))

    assert os.umask(0o077) == 0o077
    for path in readable:
        assert mode(path) == 0o600, path
    for folder in (var, var / "outbox", var / "media", var / "media" / "evidence" / "1"):
        assert mode(folder) == 0o700, folder
    assert mode(elsewhere) == 0o644


def test_consentlens_migrate_creates_an_owner_only_database(tmp_path):
    env = {
        **os.environ,
        "CONSENTLENS_VAR_DIR": str(tmp_path / "var"),
        "CONSENTLENS_ENV": "test",
    }
    env.pop("CONSENTLENS_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "consentlens.cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert result.returncode == 0, result.stderr
    assert mode(tmp_path / "var" / "consentlens.db") == 0o600
    assert mode(tmp_path / "var") == 0o700
