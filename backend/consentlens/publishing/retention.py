"""Retention: photos are kept for the organisation's retention period after their event, then
deleted with everything derived from them. Admins see what is due before it happens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, delete, func, select, update

from consentlens.audit import service as audit
from consentlens.faces.models import Face, ReferenceFace, StoredVerdict
from consentlens.gallery.models import RemovalRequest
from consentlens.organisations.models import Organisation
from consentlens.organisations.service import local_today
from consentlens.photos import storage
from consentlens.photos.models import Event, EventGroup, Photo, PhotoFamilyHiding
from consentlens.publishing.models import PublishedFace, PublishedPhoto

NOTICE_DAYS = 30


def add_months(*, day: date, months: int) -> date:
    """The same day `months` later (or earlier); the month's last day when that day is missing."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    following = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


def deletion_date(*, organisation: Organisation, event_date: date) -> date:
    """The day an event's photos are deleted."""
    return add_months(day=event_date, months=organisation.retention_months)


@dataclass(frozen=True, slots=True)
class DueEvent:
    event: Event
    photos: int
    delete_on: date


def due_events(
    *, session: Session, organisation: Organisation, now: datetime, within_days: int = NOTICE_DAYS
) -> list[DueEvent]:
    """Events whose photos are deleted within `within_days` (or are overdue), soonest first."""
    horizon = local_today(organisation=organisation, now=now) + timedelta(days=within_days)
    # One month of slack for month ends; the exact date is checked per event below.
    candidates_until = add_months(day=horizon, months=1 - organisation.retention_months)
    rows = session.exec(
        select(Event, func.count(col(Photo.id)))
        .join(Photo, col(Photo.event_id) == Event.id, isouter=True)
        .where(Event.organisation_id == organisation.id, col(Event.event_date) <= candidates_until)
        .group_by(col(Event.id))
        .order_by(col(Event.event_date), col(Event.id))
    ).all()
    due = [
        DueEvent(
            event, count, deletion_date(organisation=organisation, event_date=event.event_date)
        )
        for event, count in rows
    ]
    return [item for item in due if item.delete_on <= horizon]


def delete_event(
    *,
    session: Session,
    organisation: Organisation,
    event: Event,
    reason: str,
    actor_id: int | None = None,
    origin: audit.Origin | None = None,
) -> int:
    """Delete an event with its photos, faces, embeddings, verdicts and files; returns photos."""
    photo_rows = session.exec(
        select(Photo.id, Photo.original_ref).where(Photo.event_id == event.id)
    ).all()
    photo_ids = delete_photo_rows(
        session=session, photo_rows=[(pid, ref) for pid, ref in photo_rows if pid is not None]
    )
    session.exec(delete(EventGroup).where(col(EventGroup.event_id) == event.id))
    audit.record(
        session=session,
        action="photos.event_deleted",
        organisation_id=organisation.id,
        actor_id=actor_id,
        subject_type="event",
        subject_id=event.id,
        details={
            "name": event.name,
            "date": event.event_date.isoformat(),
            "photos": len(photo_ids),
            "reason": reason,
        },
        origin=origin,
    )
    session.delete(event)
    session.flush()
    return len(photo_ids)


def delete_photo_rows(*, session: Session, photo_rows: Sequence[tuple[int, str]]) -> list[int]:
    """Delete photos (by id and original) with their faces and verdicts; the files go after
    the commit. What was published, reference faces and removal requests stay, unlinked."""
    photo_ids = [photo_id for photo_id, _ in photo_rows]
    face_ids = select(Face.id).where(col(Face.photo_id).in_(photo_ids))
    session.exec(
        update(ReferenceFace).where(col(ReferenceFace.face_id).in_(face_ids)).values(face_id=None)
    )
    session.exec(
        update(PublishedFace).where(col(PublishedFace.face_id).in_(face_ids)).values(face_id=None)
    )
    # What was published stays on record (for takedowns); only the link to the photo goes.
    session.exec(
        update(PublishedPhoto)
        .where(col(PublishedPhoto.photo_id).in_(photo_ids))
        .values(photo_id=None)
    )
    session.exec(
        update(RemovalRequest)
        .where(col(RemovalRequest.photo_id).in_(photo_ids))
        .values(photo_id=None)
    )
    session.exec(delete(PhotoFamilyHiding).where(col(PhotoFamilyHiding.photo_id).in_(photo_ids)))
    session.exec(delete(Face).where(col(Face.photo_id).in_(photo_ids)))
    session.exec(delete(StoredVerdict).where(col(StoredVerdict.photo_id).in_(photo_ids)))
    session.exec(delete(Photo).where(col(Photo.id).in_(photo_ids)))
    session.flush()
    storage.remove_after_commit(
        session=session, refs=[ref for _, ref in photo_rows], photo_ids=photo_ids
    )
    return photo_ids


def delete_due(*, session: Session, organisation: Organisation, now: datetime) -> int:
    """Delete every event past the retention period; returns the number of photos deleted."""
    deleted = 0
    for due in due_events(session=session, organisation=organisation, now=now, within_days=0):
        if due.delete_on <= local_today(organisation=organisation, now=now):
            deleted += delete_event(
                session=session, organisation=organisation, event=due.event, reason="retention"
            )
    return deleted
