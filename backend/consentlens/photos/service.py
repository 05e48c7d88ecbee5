"""Events and the photos uploaded into them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO, Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from consentlens.audit import service as audit
from consentlens.auth.deps import Principal
from consentlens.auth.models import User
from consentlens.core.i18n import N_
from consentlens.jobs import queue
from consentlens.organisations.models import Organisation
from consentlens.people.models import Group
from consentlens.photos import ingest, storage
from consentlens.photos.models import Event, EventGroup, Photo, PhotoStatus

# The job that analyses one photo (faces.processing does the work).
ANALYSIS_TASK = "photo-analysis"


class EventError(ValueError):
    """Bad input for an event; `message` is a msgid shown to the user."""

    def __init__(self, message: str, **params: str) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What happened to one uploaded file: kept (new or already there) or rejected."""

    filename: str
    photo: Photo | None = None
    duplicate: bool = False
    error: str = ""
    error_params: dict[str, str] | None = None


def create_event(
    *,
    session: Session,
    organisation: Organisation,
    name: str,
    event_date: date,
    group_ids: Sequence[int],
    user: User | None,
    origin: audit.Origin | None = None,
) -> Event:
    name = " ".join(name.split())
    if not name:
        raise EventError(N_("Enter a name for the event."))
    if len(name) > 200:
        raise EventError(N_("The name is too long (at most 200 characters)."))
    groups = set(group_ids)
    known = set(
        session.exec(
            select(Group.id).where(
                col(Group.id).in_(groups), Group.organisation_id == organisation.id
            )
        )
    )
    if groups - known:
        raise EventError(N_("One of the chosen groups does not exist."))
    assert organisation.id is not None
    event = Event(
        organisation_id=organisation.id,
        name=name,
        event_date=event_date,
        created_by_id=user.id if user else None,
    )
    session.add(event)
    session.flush()
    assert event.id is not None
    for group_id in sorted(groups):
        session.add(EventGroup(event_id=event.id, group_id=group_id))
    audit.record(
        session=session,
        action="photos.event_created",
        organisation_id=organisation.id,
        actor_id=user.id if user else None,
        subject_type="event",
        subject_id=event.id,
        details={"name": name, "date": event_date.isoformat(), "groups": sorted(groups)},
        origin=origin,
    )
    session.flush()
    return event


def get_event(*, session: Session, organisation: Organisation, event_id: int) -> Event | None:
    event = session.get(Event, event_id)
    return event if event is not None and event.organisation_id == organisation.id else None


def get_photo(*, session: Session, organisation: Organisation, photo_id: int) -> Photo | None:
    photo = session.get(Photo, photo_id)
    return photo if photo is not None and photo.organisation_id == organisation.id else None


def list_events(*, session: Session, organisation: Organisation) -> list[Event]:
    return list(
        session.exec(
            select(Event)
            .where(Event.organisation_id == organisation.id)
            .order_by(col(Event.event_date).desc(), col(Event.id).desc())
        )
    )


def event_groups(*, session: Session, event: Event) -> list[Group]:
    return list(
        session.exec(
            select(Group)
            .join(EventGroup, col(EventGroup.group_id) == Group.id)
            .where(EventGroup.event_id == event.id)
            .order_by(col(Group.name))
        )
    )


def photo_counts(*, session: Session, event_ids: Sequence[int]) -> dict[int, Counter[str]]:
    """Per event, how many photos are in each status."""
    counts: dict[int, Counter[str]] = {event_id: Counter() for event_id in event_ids}
    for event_id, status, number in session.exec(
        select(Photo.event_id, Photo.status, func.count())
        .where(col(Photo.event_id).in_(event_ids))
        .group_by(col(Photo.event_id), col(Photo.status))
    ):
        counts[event_id][status] = number
    return counts


def event_photos(*, session: Session, event: Event) -> list[Photo]:
    return list(
        session.exec(select(Photo).where(Photo.event_id == event.id).order_by(col(Photo.id)))
    )


def add_upload(
    *,
    session: Session,
    organisation: Organisation,
    event: Event,
    source: IO[bytes],
    filename: str,
    user: User | None,
    origin: audit.Origin | None = None,
) -> UploadResult:
    """Receive one file: rejected with a reason, recognised as already uploaded, or kept."""
    # A label only (the stored file is named by its hash): no path, no control characters.
    filename = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    filename = "".join(ch for ch in filename if ch.isprintable())[:255]
    try:
        with ingest.receive(source) as received:
            existing = session.exec(
                select(Photo).where(
                    Photo.organisation_id == organisation.id, Photo.sha256 == received.sha256
                )
            ).first()
            if existing is not None:
                return UploadResult(filename, existing, duplicate=True)
            inspected = ingest.inspect(received.path)
            assert organisation.id is not None and event.id is not None
            ref = storage.original_ref(
                organisation_id=organisation.id,
                sha256=received.sha256,
                extension=inspected.extension,
            )
            photo = Photo(
                organisation_id=organisation.id,
                event_id=event.id,
                sha256=received.sha256,
                original_ref=ref,
                original_name=filename,
                media_type=inspected.media_type,
                byte_size=received.byte_size,
                width=inspected.width,
                height=inspected.height,
                taken_at=inspected.taken_at,
                uploaded_by_id=user.id if user else None,
                status=PhotoStatus.PENDING.value,
            )
            savepoint = session.begin_nested()
            try:
                session.add(photo)
                session.flush()
            except IntegrityError:
                # The same file arrived twice at once; the other request kept it.
                savepoint.rollback()
                existing = session.exec(
                    select(Photo).where(
                        Photo.organisation_id == organisation.id,
                        Photo.sha256 == received.sha256,
                    )
                ).one()
                return UploadResult(filename, existing, duplicate=True)
            savepoint.commit()
            storage.keep(incoming=received.path, ref=ref, session=session)
    except ingest.UploadRejected as rejected:
        return UploadResult(filename, error=rejected.message, error_params=rejected.params)
    audit.record(
        session=session,
        action="photos.photo_uploaded",
        organisation_id=organisation.id,
        actor_id=user.id if user else None,
        subject_type="photo",
        subject_id=photo.id,
        details={"event_id": event.id, "sha256": received.sha256, "bytes": received.byte_size},
        origin=origin,
    )
    # Sent once the photo is committed: a worker in another session could not see it before.
    queue.enqueue(session=session, task=ANALYSIS_TASK, argument=str(photo.id))
    return UploadResult(filename, photo)


class Upload(Protocol):
    """A file as a multipart form delivers it (FastAPI's UploadFile)."""

    @property
    def file(self) -> IO[bytes]: ...

    @property
    def filename(self) -> str | None: ...


def add_uploads(
    *,
    session: Session,
    principal: Principal,
    event: Event,
    uploads: Iterable[Upload],
    origin: audit.Origin | None = None,
) -> list[UploadResult]:
    """Receive a request's files, each kept, recognised as a duplicate or rejected on its own."""
    return [
        add_upload(
            session=session,
            organisation=principal.organisation,
            event=event,
            source=upload.file,
            filename=upload.filename or "",
            user=principal.user,
            origin=origin,
        )
        for upload in uploads
    ]


def retry_photo(*, session: Session, photo: Photo) -> None:
    """Queue a failed photo for analysis again."""
    if photo.status == PhotoStatus.FAILED.value:
        photo.status = PhotoStatus.PENDING.value
        photo.error = ""
        photo.attempts = 0
        session.add(photo)
        session.flush()
        queue.enqueue(session=session, task=ANALYSIS_TASK, argument=str(photo.id))
