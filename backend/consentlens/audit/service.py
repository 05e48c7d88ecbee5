"""Writing audit events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlmodel import Session

from consentlens.audit.models import AuditEvent


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an action came from: the client's IP and user agent, for online actions."""

    ip: str = ""
    user_agent: str = ""


def origin_of(request: Request) -> Origin:
    ip = request.client.host if request.client else ""
    return Origin(ip=ip[:64], user_agent=request.headers.get("user-agent", "")[:400])


def record(
    *,
    session: Session,
    action: str,
    organisation_id: int | None = None,
    actor_id: int | None = None,
    subject_type: str = "",
    subject_id: object = "",
    details: dict[str, Any] | None = None,
    origin: Origin | None = None,
) -> AuditEvent:
    """Append one audit event to the current transaction."""
    origin = origin or Origin()
    event = AuditEvent(
        organisation_id=organisation_id,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        details=details or {},
        ip=origin.ip,
        user_agent=origin.user_agent,
    )
    session.add(event)
    session.flush()
    return event
