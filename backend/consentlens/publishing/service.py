"""Publishing photos for one use as a ZIP, recording what left the club (takedowns: `takedowns`).

A publication records, per photo, which faces were in it and each face's consent state at that
moment, so that a later withdrawal can say what to take down where.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.consent import service as consent
from consentlens.consent.policy import VerdictAction
from consentlens.consent.uses import Use
from consentlens.core.i18n import N_
from consentlens.faces import serving, verdicts
from consentlens.faces.models import FaceState
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child
from consentlens.photos.models import Event, Photo
from consentlens.publishing import archive
from consentlens.publishing.models import Publication, PublishedFace, PublishedPhoto

PUBLISH_USES = (Use.WEBSITE, Use.SOCIAL_MEDIA, Use.PRINT, Use.PRESS)


class PublishError(ValueError):
    """A publication that cannot be made; `message` is a msgid shown to staff."""

    def __init__(self, message: str, **params: str) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


@dataclass
class Export:
    """The ZIP and what went into it."""

    publication: Publication
    data: bytes
    included: list[tuple[Photo, str]] = field(default_factory=list)
    left_out: list[tuple[Photo, str]] = field(default_factory=list)


def publish(
    *,
    session: Session,
    organisation: Organisation,
    user: User,
    use: str,
    photos: Sequence[Photo],
    size: str,
    title: str,
    now: datetime,
    origin: audit.Origin | None = None,
) -> Export:
    """Build the ZIP of the photos cleared for `use`, and record the publication."""
    uses = {u.code: u for u in verdicts.photo_uses(session=session, organisation=organisation)}
    if use not in uses or use not in PUBLISH_USES:
        raise PublishError(N_("Choose where the photos will be published."))
    if size not in ("thumb", "display"):
        raise PublishError(N_("Choose a size."))
    if not photos:
        raise PublishError(N_("Select at least one photo."))
    assert organisation.id is not None
    publication = Publication(
        organisation_id=organisation.id,
        use_code=use,
        size=size,
        title=" ".join(title.split())[:200],
        created_by_id=user.id,
        created_at=now,
    )
    session.add(publication)
    session.flush()
    assert publication.id is not None
    events = _events(session, photos)
    zone = organisation.timezone
    buffer = io.BytesIO()
    export = Export(publication, b"")
    taken: set[str] = set()
    missing: list[tuple[str, str]] = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zipped:
        for photo in photos:
            assert photo.id is not None
            # Judged again now, for exactly this use: what the page showed may be minutes old.
            evaluation = serving.current_evaluation(
                session=session, organisation=organisation, photo=photo, now=now
            )
            verdict = evaluation.verdicts[use]
            name = archive.entry_name(event=events.get(photo.event_id), photo=photo)
            if verdict.action is VerdictAction.HIDE:
                export.left_out.append((photo, verdict.reason.text()))
                missing.append((f"{name} (photo {photo.id})", verdict.reason.text()))
                continue
            data = serving.rendered(
                organisation=organisation, evaluation=evaluation, use=use, size=size
            )
            name = archive.unique(name, taken=taken)
            # The photo's own date, never the moment it was rendered.
            info = archive.entry(name, moment=archive.photo_date(photo=photo, timezone=zone))
            zipped.writestr(info, data)
            export.included.append((photo, name))
            _record_photo(session, organisation, publication, evaluation, use, name, now)
        text = archive.manifest(
            heading=f"{organisation.name} - publication {publication.id} for "
            f"{uses[use].label_en} ({use})",
            made=now,
            timezone=zone,
            size=size,
            title=publication.title,
            included=(name for _, name in export.included),
            left_out=missing,
        )
        zipped.writestr(
            archive.entry("manifest.txt", moment=archive.local_time(now, timezone=zone)), text
        )
    publication.photo_count = len(export.included)
    publication.left_out_count = len(export.left_out)
    session.add(publication)
    audit.record(
        session=session,
        action="photos.published",
        organisation_id=organisation.id,
        actor_id=user.id,
        subject_type="publication",
        subject_id=publication.id,
        details={
            "use": use,
            "size": size,
            "photos": [photo.id for photo, _ in export.included],
            "left_out": [photo.id for photo, _ in export.left_out],
        },
        origin=origin,
    )
    session.flush()
    export.data = buffer.getvalue()
    return export


def _events(session: Session, photos: Sequence[Photo]) -> dict[int, Event]:
    ids = {photo.event_id for photo in photos}
    return {
        event.id: event
        for event in session.exec(select(Event).where(col(Event.id).in_(ids)))
        if event.id is not None
    }


def _record_photo(
    session: Session,
    organisation: Organisation,
    publication: Publication,
    evaluation: verdicts.Evaluation,
    use: str,
    name: str,
    now: datetime,
) -> None:
    verdict = evaluation.verdicts[use]
    assert publication.id is not None and evaluation.photo.id is not None
    published = PublishedPhoto(
        publication_id=publication.id,
        photo_id=evaluation.photo.id,
        file_name=name,
        action=verdict.action.value,
    )
    session.add(published)
    session.flush()
    assert published.id is not None
    visible = {face.face_id for face in verdict.faces if face.visible}
    children = {
        child.id: child
        for child in session.exec(
            select(Child).where(
                col(Child.id).in_([f.child_id for f in evaluation.faces if f.child_id])
            )
        )
    }
    uses = [
        u for u in verdicts.photo_uses(session=session, organisation=organisation) if u.code == use
    ]
    states = consent.effective_consents(
        session=session,
        organisation=organisation,
        children=list(children.values()),
        uses=uses,
        now=now,
    )
    for face in evaluation.faces:
        if face.state == FaceState.NOT_A_FACE.value:
            continue
        state = states.get((face.child_id, use)) if face.child_id else None
        session.add(
            PublishedFace(
                published_photo_id=published.id,
                face_id=face.id,
                child_id=face.child_id,
                state=face.state,
                visible=face.id in visible,
                consent_state=state.state.value if state else "",
            )
        )
