"""The admin's view of the backups: the last runs, the files kept, and a warning when none
succeeded lately. Backups are made by the worker's schedule or by `consentlens backup`; they never
leave the server through the web."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from consentlens.auth.deps import CurrentAdmin
from consentlens.backup import schedule
from consentlens.core.config import get_settings
from consentlens.core.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/admin/backups")
def backups_page(request: Request, principal: CurrentAdmin) -> Response:
    settings = get_settings()
    directory = settings.resolved_backup_dir
    kept = sorted(directory.glob(f"consentlens-*{schedule.SUFFIX}"), reverse=True)
    return render(
        request,
        "backup/status.html",
        organisation=principal.organisation,
        kept=[(path.name, path.stat().st_size) for path in kept],
        every_hours=settings.backup_every_hours if settings.backup_passphrase else 0,
        keep=settings.backup_keep,
        configured=bool(settings.backup_passphrase),
        page=schedule.status_for_page(),
    )


def moment(value: str) -> datetime:
    """A run's stored time (ISO) for the templates' local time filter."""
    return datetime.fromisoformat(value)
