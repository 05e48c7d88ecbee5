"""Guardians' requests to take a photo down, and staff resolving them (audited).

Staff resolve a request by doing it, not by ticking a box: the photo is hidden from everyone,
hidden from the family that asked, or deleted (`gallery.visibility`), or the request is declined
with a reason. The guardian sees the outcome on their gallery and is told by e-mail.
"""

from __future__ import annotations

import enum

from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.audit.service import Origin
from consentlens.auth.deps import Principal
from consentlens.auth.models import User
from consentlens.core.i18n import N_
from consentlens.core.tables import utcnow
from consentlens.gallery import outcome_mail, visibility
from consentlens.gallery.models import RemovalRequest
from consentlens.organisations.models import Organisation
from consentlens.photos import service as photo_service
from consentlens.photos.models import Photo

REASON_LIMIT = 1000


class Outcome(enum.StrEnum):
    HIDDEN = "hidden"  # from everyone, every use
    HIDDEN_FAMILY = "hidden_family"  # from the gallery of the family that asked
    DELETED = "deleted"
    DECLINED = "declined"


# Outcomes that take the photo away from everyone: every open request for it is answered too.
FOR_EVERYONE = (Outcome.HIDDEN, Outcome.DELETED)


class RemovalError(ValueError):
    """The outcome cannot be applied; the message (translatable) says why."""


def open_removal_request(*, session: Session, user: User, photo: Photo) -> RemovalRequest | None:
    """The guardian's unresolved request for this photo, if they already asked."""
    return session.exec(
        select(RemovalRequest).where(
            RemovalRequest.photo_id == photo.id,
            RemovalRequest.requested_by_id == user.id,
            col(RemovalRequest.resolved_at).is_(None),
        )
    ).first()


def latest_removal_request(*, session: Session, user: User, photo: Photo) -> RemovalRequest | None:
    """The guardian's newest request for this photo, open or answered."""
    return session.exec(
        select(RemovalRequest)
        .where(RemovalRequest.photo_id == photo.id, RemovalRequest.requested_by_id == user.id)
        .order_by(col(RemovalRequest.created_at).desc(), col(RemovalRequest.id).desc())
    ).first()


def guardian_removal_requests(
    *, session: Session, principal: Principal, limit: int = 20
) -> list[RemovalRequest]:
    """The guardian's own requests in this club, newest first (their gallery lists them)."""
    return list(
        session.exec(
            select(RemovalRequest)
            .where(
                RemovalRequest.organisation_id == principal.organisation.id,
                RemovalRequest.requested_by_id == principal.user.id,
            )
            .order_by(col(RemovalRequest.created_at).desc(), col(RemovalRequest.id).desc())
            .limit(limit)
        )
    )


def request_removal(
    *, session: Session, principal: Principal, photo: Photo, message: str, origin: Origin
) -> RemovalRequest:
    """Record a guardian's request to take a photo down; asking twice keeps one open request."""
    existing = open_removal_request(session=session, user=principal.user, photo=photo)
    if existing is not None:
        return existing
    assert principal.organisation.id is not None and principal.user.id is not None
    event = photo_service.get_event(
        session=session, organisation=principal.organisation, event_id=photo.event_id
    )
    removal = RemovalRequest(
        organisation_id=principal.organisation.id,
        photo_id=photo.id,
        requested_by_id=principal.user.id,
        message=message,
        event_name=event.name if event else "",
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
    *, session: Session, organisation: Organisation, photo_id: int | None = None
) -> list[tuple[RemovalRequest, User, Photo | None]]:
    """Unresolved requests of the organisation (of one photo), oldest first (waited longest)."""
    statement = (
        select(RemovalRequest, User)
        .join(User, col(User.id) == RemovalRequest.requested_by_id)
        .where(
            RemovalRequest.organisation_id == organisation.id,
            col(RemovalRequest.resolved_at).is_(None),
        )
        .order_by(col(RemovalRequest.created_at), col(RemovalRequest.id))
    )
    if photo_id is not None:
        statement = statement.where(RemovalRequest.photo_id == photo_id)
    return [
        (removal, user, session.get(Photo, removal.photo_id) if removal.photo_id else None)
        for removal, user in session.exec(statement).all()
    ]


def get_removal_request(
    *, session: Session, organisation: Organisation, request_id: int
) -> RemovalRequest | None:
    removal = session.get(RemovalRequest, request_id)
    return removal if removal and removal.organisation_id == organisation.id else None


def _close(
    session: Session,
    principal: Principal,
    removal: RemovalRequest,
    outcome: Outcome,
    reason: str,
    origin: Origin | None,
) -> None:
    removal.resolved_at = utcnow()
    removal.resolved_by_id = principal.user.id
    removal.resolution = outcome.value
    removal.reason = reason
    session.add(removal)
    session.flush()
    audit.record(
        session=session,
        action="photos.removal_resolved",
        organisation_id=principal.organisation.id,
        actor_id=principal.user.id,
        subject_type="removal_request",
        subject_id=removal.id,
        details={"photo_id": removal.photo_id, "resolution": outcome.value},
        origin=origin,
    )


def resolve_removal(
    *,
    session: Session,
    principal: Principal,
    removal: RemovalRequest,
    outcome: Outcome,
    reason: str = "",
    origin: Origin | None = None,
) -> list[RemovalRequest]:
    """Do what staff chose and answer the request (and, when the photo goes for everyone, the
    other open requests for it); each guardian is told. Returns the requests answered."""
    if removal.resolved_at is not None:
        raise RemovalError(N_("This request was already resolved."))
    reason = reason.strip()
    if outcome is Outcome.DECLINED and not reason:
        raise RemovalError(N_("Say why the photo stays: the family reads your reason."))
    if len(reason) > REASON_LIMIT:
        raise RemovalError(N_("The reason is too long. Keep it under 1000 characters."))
    photo = (
        photo_service.get_photo(
            session=session, organisation=principal.organisation, photo_id=removal.photo_id
        )
        if removal.photo_id is not None
        else None
    )
    if photo is None and outcome is not Outcome.DECLINED:
        raise RemovalError(N_("The photo no longer exists; decline the request or say so."))
    answered = [removal]
    if photo is not None and outcome in FOR_EVERYONE:
        assert photo.id is not None
        answered += [
            other
            for other, _, _ in open_removal_requests(
                session=session, organisation=principal.organisation, photo_id=photo.id
            )
            if other.id != removal.id
        ]
    for request in answered:
        _close(session, principal, request, outcome, reason if request is removal else "", origin)
    if photo is not None:
        if outcome is Outcome.HIDDEN:
            visibility.hide_everywhere(
                session=session, principal=principal, photo=photo, origin=origin
            )
        elif outcome is Outcome.HIDDEN_FAMILY:
            visibility.hide_for_family(
                session=session,
                principal=principal,
                photo=photo,
                guardian_id=removal.requested_by_id,
                origin=origin,
            )
        elif outcome is Outcome.DELETED:
            visibility.delete_photo(
                session=session,
                principal=principal,
                photo=photo,
                origin=origin,
                request_id=removal.id,
            )
            for request in answered:
                request.photo_id = None
    for request in answered:
        outcome_mail.tell_guardian(
            session=session, organisation=principal.organisation, removal=request
        )
    return answered
