"""Scheduled backups: when they are due, what the admin is told, how many are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consentlens.auth.models import Role
from consentlens.backup import schedule
from consentlens.backup.schedule import Run, Status, is_due, warning
from consentlens.core.config import Settings, get_settings
from consentlens.core.db import make_engine
from consentlens.db import migrate
from tests import factories
from tests.conftest import sign_in

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def run(started: datetime, ok: bool | None, finished: datetime | None = None) -> Run:
    return Run(
        started_at=started.isoformat(),
        finished_at=(finished or started).isoformat() if ok is not None else "",
        ok=ok,
    )


@pytest.mark.parametrize(
    ("status", "due"),
    [
        (Status(), True),  # never backed up
        (Status(last=run(NOW - 2 * DAY, True)), True),
        (Status(last=run(NOW - timedelta(hours=23), True)), False),
        (Status(last=run(NOW - timedelta(hours=2), False)), True),  # failed: again soon
        (Status(last=run(NOW - timedelta(minutes=30), False)), False),
        (Status(last=run(NOW - timedelta(hours=1), None)), False),  # running
        (Status(last=run(NOW - timedelta(hours=7), None)), True),  # died running
    ],
)
def test_a_backup_is_due_once_a_period_and_soon_after_a_failure(status, due):
    assert is_due(status=status, now=NOW, every=DAY) is due


def test_the_admin_is_warned_when_no_backup_succeeded_for_a_week():
    assert warning(status=Status(), now=NOW) == "No backup has been made yet."
    recent = run(NOW - 6 * DAY, True)
    old = run(NOW - 8 * DAY, True)
    assert warning(status=Status(last=recent, last_ok=recent), now=NOW) == ""
    failing = run(NOW - timedelta(hours=1), False)
    assert "7 days" in warning(status=Status(last=failing, last_ok=old), now=NOW)


def test_backups_run_record_their_result_and_keep_the_newest(tmp_path):
    url = f"sqlite:///{tmp_path / 'consentlens.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    settings = Settings(
        var_dir=tmp_path, backup_passphrase="a passphrase", backup_keep=2, env="test"
    )
    directory = settings.resolved_backup_dir
    made = []
    for n in range(3):
        target = directory / f"consentlens-2026120{n}-000000.backup"
        made.append(
            schedule.run_backup(settings=settings, trigger="test", target=target, engine=engine)
        )
    kept = sorted(path.name for path in directory.glob("*.backup"))
    assert kept == ["consentlens-20261201-000000.backup", "consentlens-20261202-000000.backup"]
    status = schedule.read_status(directory)
    assert status.last == status.last_ok == made[-1] and made[-1].ok and made[-1].size > 0

    broken = settings.model_copy(update={"backup_passphrase": ""})
    with pytest.raises(ValueError):
        schedule.run_backup(settings=broken, trigger="test", engine=engine)
    status = schedule.read_status(directory)
    assert status.last is not None and status.last.ok is False and "passphrase" in status.last.error
    assert status.last_ok == made[-1]  # the last good one is still known
    engine.dispose()


@pytest.fixture
def backup_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("CONSENTLENS_BACKUP_PASSPHRASE", "a passphrase")
    monkeypatch.setenv("CONSENTLENS_BACKUP_DIR", str(tmp_path / "backups"))
    # A media folder of its own: the backup is of the test database, not of every test's photos.
    monkeypatch.setenv("CONSENTLENS_MEDIA_DIR", str(tmp_path / "media"))
    get_settings.cache_clear()
    # The scheduled backup is of the configured database (`get_engine`): give it its schema.
    migrate.upgrade()
    yield get_settings()
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_worker_starts_a_due_backup_and_not_a_second_one(backup_settings):
    thread = schedule.start_if_due(NOW)
    assert thread is not None
    thread.join(120)
    status = schedule.read_status(backup_settings.resolved_backup_dir)
    assert status.last_ok is not None and status.last_ok.ok
    assert (backup_settings.resolved_backup_dir / status.last_ok.path.split("/")[-1]).is_file()
    assert schedule.start_if_due(datetime.now(UTC)) is None  # done a moment ago


def test_the_backups_page_tells_admins_how_backups_stand(client, db, backup_settings):
    org = factories.organisation(db)
    admin = factories.user(db, org, Role.ADMIN)
    staff = factories.user(db, org, Role.STAFF)
    sign_in(client, staff.email)
    assert client.get("/admin/backups").status_code == 403
    client.post("/logout", data={"csrf_token": client.cookies.get("csrf", "")})
    client.cookies.clear()
    sign_in(client, admin.email)
    page = client.get("/admin/backups")
    assert page.status_code == 200
    assert "No backup has been made yet." in page.text
    home = client.get("/admin")
    assert "No backup has been made yet." in home.text and 'href="/admin/backups"' in home.text

    thread = schedule.start_if_due(datetime.now(UTC))
    assert thread is not None
    thread.join(120)
    page = client.get("/admin/backups")
    assert "Succeeded" in page.text and "No backup has been made yet." not in page.text
    assert ".backup" in page.text
    assert "No backup has been made yet." not in client.get("/admin").text


def test_an_installation_on_object_storage_is_refused_saying_why(tmp_path, monkeypatch):
    from consentlens.backup import restoring
    from consentlens.backup.sealing import BackupRefused

    settings = Settings(
        var_dir=tmp_path,
        backup_passphrase="a passphrase",
        storage="s3",
        s3_bucket="photos",
        s3_access_key="key",
        s3_secret_key="secret",
    )
    with pytest.raises(BackupRefused, match="object storage"):
        schedule.run_backup(settings=settings, trigger="command")
    status = schedule.read_status(settings.resolved_backup_dir)
    assert status.last is not None and status.last.ok is False
    assert "object storage" in status.last.error
    assert list(settings.resolved_backup_dir.glob("consentlens-*")) == []
    monkeypatch.setattr(get_settings(), "storage", "s3")
    with pytest.raises(BackupRefused, match="object storage"):
        restoring.restore(
            source=tmp_path / "any.backup",
            passphrase="a passphrase",
            engine=make_engine(f"sqlite:///{tmp_path / 'target.db'}"),
            media_root=tmp_path / "media",
            work_dir=tmp_path,
        )
