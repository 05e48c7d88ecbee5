"""Guardians' requests to take a photo down, and staff resolving them (audited)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.audit.service import Origin
from consentlens.auth.deps import Principal
from consentlens.auth.models import User
from consentlens.core.tables import utcnow
from consentlens.gallery.models import RemovalRequest
from consentlens.organisations.models import Organisation
from consentlens.photos.models import Photo

RESOLUTIONS = ("removed", "kept")


def open_removal_request(*, session: Session, user: User, photo: Photo) -> RemovalRequest | None:
    """The guardian's unresolved request for this photo, if they already asked."""
    return session.exec(
        select(RemovalRequest).where(
            RemovalRequest.photo_id == photo.id,
            RemovalRequest.requested_by_id == user.id,
            col(RemovalRequest.resolved_at).is_(None),
        )
    ).first()


def request_removal(
    *, session: Session, principal: Principal, photo: Photo, message: str, origin: Origin
) -> RemovalRequest:
    """Record a guardian's request to take a photo down; asking twice keeps one open request."""
    existing = open_removal_request(session=session, user=principal.user, photo=photo)
    if existing is not None:
        return existing
    assert principal.organisation.id is not None and principal.user.id is not None
    removal = RemovalRequest(
        organisation_id=principal.organisation.id,
        photo_id=photo.id,
        requested_by_id=principal.user.id,
        message=message,
    )
    session.add(removal)
    session.flush()
    # The message stays in its own table: the audit trail outlives it and needs no free text.
    audit.record(
        session=session,
        action="photos.removal_requested",
        organisation_id=principal.organisation.id,
        actor_id=principal.user.id,
        subject_type="photo",
        subject_id=photo.id,
        details={"request_id": removal.id, "with_message": bool(message)},
        origin=origin,
    )
    return removal


def open_removal_requests(
    *, session: Session, organisation: Organisation
) -> list[tuple[RemovalRequest, User, Photo | None]]:
    """Unresolved requests of the organisation, oldest first (they have waited longest)."""
    rows = session.exec(
        select(RemovalRequest, User)
        .join(User, col(User.id) == RemovalRequest.requested_by_id)
        .where(
            RemovalRequest.organisation_id == organisation.id,
            col(RemovalRequest.resolved_at).is_(None),
        )
        .order_by(col(RemovalRequest.created_at), col(RemovalRequest.id))
    ).all()
    return [
        (removal, user, session.get(Photo, removal.photo_id) if removal.photo_id else None)
        for removal, user in rows
    ]


def get_removal_request(
    *, session: Session, organisation: Organisation, request_id: int
) -> RemovalRequest | None:
    removal = session.get(RemovalRequest, request_id)
    return removal if removal and removal.organisation_id == organisation.id else None


def resolve_removal(
    *,
    session: Session,
    principal: Principal,
    removal: RemovalRequest,
    resolution: str,
    origin: Origin,
) -> None:
    """Mark a request resolved; removing the photo itself is done (or not) elsewhere by staff."""
    if resolution not in RESOLUTIONS:
        raise ValueError(resolution)
    removal.resolved_at = utcnow()
    removal.resolved_by_id = principal.user.id
    removal.resolution = resolution
    session.add(removal)
    session.flush()
    audit.record(
        session=session,
        action="photos.removal_resolved",
        organisation_id=principal.organisation.id,
        actor_id=principal.user.id,
        subject_type="removal_request",
        subject_id=removal.id,
        details={"photo_id": removal.photo_id, "resolution": resolution},
        origin=origin,
    )
