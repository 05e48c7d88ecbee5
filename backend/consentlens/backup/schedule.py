"""Backups on a schedule, their status, and how many are kept.

The status of the last runs is a small JSON file beside the backups (installation-wide, like the
backups themselves): the admin page reads it, and the worker's minute duty decides from it when the
next scheduled backup is due. A backup runs in a thread of its own, so the minute duties do not
wait for it; one at a time per process.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from consentlens.backup import archive
from consentlens.core.config import Settings, get_settings
from consentlens.core.db import get_engine
from consentlens.core.i18n import N_
from consentlens.core.tables import utcnow

log = logging.getLogger(__name__)

STATUS_FILE = "status.json"
SUFFIX = ".backup"
# No successful backup for this long: the admin page warns.
WARN_AFTER = timedelta(days=7)
# A run that started this long ago and never finished died with its process.
GIVE_UP_AFTER = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Run:
    started_at: str
    finished_at: str = ""
    ok: bool | None = None  # None: still running
    path: str = ""
    size: int = 0
    error: str = ""
    trigger: str = "scheduled"


@dataclass(frozen=True, slots=True)
class Status:
    last: Run | None = None
    last_ok: Run | None = None


def read_status(directory: Path) -> Status:
    try:
        data = json.loads((directory / STATUS_FILE).read_text())
        return Status(
            last=Run(**data["last"]) if data.get("last") else None,
            last_ok=Run(**data["last_ok"]) if data.get("last_ok") else None,
        )
    except (OSError, ValueError, TypeError, KeyError):
        return Status()


def _write_status(directory: Path, status: Status) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(handle, "w") as out:
        json.dump({"last": _plain(status.last), "last_ok": _plain(status.last_ok)}, out, indent=1)
    os.replace(temporary, directory / STATUS_FILE)


def _plain(run: Run | None) -> dict[str, object] | None:
    return asdict(run) if run else None


def is_due(*, status: Status, now: datetime, every: timedelta) -> bool:
    """Whether a scheduled backup should start now."""
    last = status.last
    if last is not None and last.ok is None:
        # Running (or died running): wait for it, unless it is long past any backup's time.
        return now - datetime.fromisoformat(last.started_at) > GIVE_UP_AFTER
    if last is None:
        return True
    # After a failure, try again within the hour rather than a whole period later.
    wait = every if last.ok else min(every, timedelta(hours=1))
    return now - datetime.fromisoformat(last.started_at) >= wait


def warning(*, status: Status, now: datetime) -> str:
    """What the admin page must say about backups, or "" when all is well."""
    if status.last_ok is None:
        return N_("No backup has been made yet.")
    if now - datetime.fromisoformat(status.last_ok.finished_at) > WARN_AFTER:
        return N_("No backup has succeeded for more than 7 days.")
    return ""


def run_backup(
    *, settings: Settings, trigger: str, target: Path | None = None, engine: Engine | None = None
) -> Run:
    """Make one backup now, record how it went, and keep only the newest `backup_keep`."""
    directory = settings.resolved_backup_dir
    now = utcnow()
    if target is not None and target.exists():
        raise FileExistsError(f"{target} exists: a backup never replaces a file")
    for partial in directory.glob(".consentlens-*.partial"):
        partial.unlink(missing_ok=True)  # left by a backup that was killed
    started = Run(started_at=now.isoformat(), trigger=trigger)
    previous = read_status(directory)
    _write_status(directory, Status(last=started, last_ok=previous.last_ok))
    path = target or directory / f"consentlens-{now:%Y%m%d-%H%M%S}{SUFFIX}"
    try:
        archive.refuse_object_storage(settings)
        report = archive.create(
            target=path,
            passphrase=settings.backup_passphrase,
            engine=engine or get_engine(),
            media_root=settings.resolved_media_dir,
            now=now,
            # A key from the environment is the operator's to carry over; a generated one travels.
            secret_key=None if settings.secret_key else settings.resolved_secret_key,
        )
    except BaseException as error:  # Ctrl-C included: the status must not say "running"
        failed = Run(
            started_at=started.started_at,
            finished_at=utcnow().isoformat(),
            ok=False,
            error=f"{type(error).__name__}: {error}"[:300],
            trigger=trigger,
        )
        _write_status(directory, Status(last=failed, last_ok=previous.last_ok))
        log.error("backup failed: %s", failed.error)
        raise
    done = Run(
        started_at=started.started_at,
        finished_at=utcnow().isoformat(),
        ok=True,
        path=str(report.path),
        size=report.size,
        trigger=trigger,
    )
    _write_status(directory, Status(last=done, last_ok=done))
    prune(directory=directory, keep=settings.backup_keep)
    return done


def prune(*, directory: Path, keep: int) -> list[Path]:
    """Delete the oldest backups in `directory` beyond the newest `keep`; returns those deleted."""
    backups = sorted(directory.glob(f"consentlens-*{SUFFIX}"))
    old = backups[: max(0, len(backups) - keep)]
    for path in old:
        path.unlink(missing_ok=True)
    return old


_running = threading.Lock()


def start_if_due(now: datetime) -> threading.Thread | None:
    """The worker's minute duty: start a scheduled backup in a thread when one is due."""
    settings = get_settings()
    if settings.backup_every_hours == 0 or not settings.backup_passphrase:
        return None
    status = read_status(settings.resolved_backup_dir)
    if not is_due(status=status, now=now, every=timedelta(hours=settings.backup_every_hours)):
        return None
    if not _running.acquire(blocking=False):
        return None

    def backup() -> None:
        # A failure is recorded in the status and logged; the next try is within the hour.
        try:
            with contextlib.suppress(Exception):
                run_backup(settings=settings, trigger="scheduled")
        finally:
            _running.release()

    thread = threading.Thread(target=backup, name="scheduled-backup", daemon=True)
    thread.start()
    return thread


@dataclass(frozen=True, slots=True)
class PageStatus:
    status: Status
    warning: str


def status_for_page() -> PageStatus:
    """For the admin pages: the last runs and the warning (a template global)."""
    status = read_status(get_settings().resolved_backup_dir)
    return PageStatus(status=status, warning=warning(status=status, now=utcnow()))
