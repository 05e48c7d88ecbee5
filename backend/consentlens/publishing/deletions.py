"""An admin deleting one photo or a whole event by hand: audited, files removed after commit.

The rows go in the request's transaction (`retention.delete_photo_rows`, the same code as the
retention clean-up); the original and its renderings are deleted only once that commit holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.faces.models import Face
from consentlens.organisations.models import Organisation
from consentlens.photos.models import Event, Photo
from consentlens.publishing import retention
from consentlens.publishing.models import PublishedPhoto


@dataclass(frozen=True)
class WhatGoes:
    """What a deletion takes with it, for the confirmation page."""

    photos: int
    faces: int
    # Copies already handed out: their record stays, the files outside are not ours to delete.
    published: int


def what_goes(*, session: Session, photo_ids: list[int]) -> WhatGoes:
    """How many photos, faces and published copies a deletion of these photos concerns."""
    if not photo_ids:
        return WhatGoes(0, 0, 0)
    faces = session.exec(
        select(func.count()).select_from(Face).where(col(Face.photo_id).in_(photo_ids))
    ).one()
    published = session.exec(
        select(func.count())
        .select_from(PublishedPhoto)
        .where(col(PublishedPhoto.photo_id).in_(photo_ids))
    ).one()
    return WhatGoes(len(photo_ids), int(faces), int(published))


def event_photo_ids(*, session: Session, event: Event) -> list[int]:
    return [pid for pid in session.exec(select(Photo.id).where(Photo.event_id == event.id)) if pid]


def delete_photo(
    *,
    session: Session,
    organisation: Organisation,
    photo: Photo,
    actor: User,
    origin: audit.Origin,
) -> None:
    """Delete one photo with its faces and verdicts; its files go once the deletion commits."""
    assert photo.id is not None and photo.organisation_id == organisation.id
    audit.record(
        session=session,
        action="photos.photo_deleted",
        organisation_id=organisation.id,
        actor_id=actor.id,
        subject_type="photo",
        subject_id=photo.id,
        details={
            "event_id": photo.event_id,
            "name": photo.original_name,
            "sha256": photo.sha256,
            "reason": "admin",
        },
        origin=origin,
    )
    retention.delete_photo_rows(session=session, photo_rows=[(photo.id, photo.original_ref)])


def delete_event(
    *,
    session: Session,
    organisation: Organisation,
    event: Event,
    actor: User,
    origin: audit.Origin,
) -> int:
    """Delete an event and all its photos (as the retention clean-up does); returns photos."""
    assert event.organisation_id == organisation.id
    return retention.delete_event(
        session=session,
        organisation=organisation,
        event=event,
        reason="admin",
        actor_id=actor.id,
        origin=origin,
    )
