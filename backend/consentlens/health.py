"""`/healthz`: whether this process can reach what it needs, for load balancers and operators.

Database, file storage and job queue, each "ok" or "unavailable" (with the kind of failure, not
its details: the endpoint is public), and the queue's depth. 503 when any part is down, so a
load balancer takes the replica out of rotation.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlmodel import Session, col, func, select

from consentlens.core.config import get_settings
from consentlens.core.db import SessionDep
from consentlens.core.storage import StorageUnavailable, get_store
from consentlens.jobs import distributed, worker
from consentlens.photos import storage
from consentlens.photos.models import Photo, PhotoStatus

router = APIRouter()
log = logging.getLogger(__name__)


@router.get("/healthz", tags=["health"])
def healthz(session: SessionDep) -> JSONResponse:
    """Database, storage and queue, each checked now."""
    report: dict[str, Any] = {
        "database": _checked(lambda: database(session=session)),
        "storage": _checked(files),
        "queue": queue_report(session=session),
    }
    healthy = report["database"] == "ok" and report["storage"] == "ok"
    healthy = healthy and report["queue"]["status"] == "ok"
    report = {"status": "ok" if healthy else "unavailable", **report}
    return JSONResponse(report, status_code=200 if healthy else 503)


def _checked(check: Any) -> str:
    try:
        check()
    except Exception as error:
        return f"unavailable ({type(error).__name__})"
    return "ok"


def database(*, session: Session) -> None:
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]


def files() -> None:
    """Uploads can land (their local folder is writable) and the store answers."""
    incoming = storage.incoming_dir()
    if not os.access(incoming, os.W_OK | os.X_OK):
        raise PermissionError(str(incoming))
    try:
        get_store().check()
    except StorageUnavailable as error:
        # The endpoint is public: the details (the store's address) go to the log only.
        log.warning("health check: %s", error)
        raise


def queue_report(*, session: Session) -> dict[str, Any]:
    """The engine, jobs waiting and running, and photos waiting for analysis."""
    engine = get_settings().jobs
    report: dict[str, Any] = {"engine": engine}
    try:
        report["photos_waiting"] = photos_waiting(session=session)
        if engine == "procrastinate":
            report["waiting"], report["running"] = distributed.depth()
        else:
            report["worker_in_this_process"] = worker.embedded_running()
    except Exception as error:
        session.rollback()
        return {**report, "status": f"unavailable ({type(error).__name__})"}
    return {"status": "ok", **report}


def photos_waiting(*, session: Session) -> int:
    return session.exec(
        select(func.count()).where(col(Photo.status) == PhotoStatus.PENDING.value)
    ).one()
