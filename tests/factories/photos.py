"""Photo factories: a club with enrolled children, events, and real uploads of the shared photos."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from consentlens.auth.models import Role, User
from consentlens.core.tables import utcnow
from consentlens.faces import enrollment, processing
from consentlens.faces.models import Face, FaceState
from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people.models import Child, Group
from consentlens.photos import ingest, service
from consentlens.photos import storage as photo_storage
from consentlens.photos.models import Event, Photo
from tests import factories
from tests.factories import consent as make_consent

# The real photos every face test runs on (../shared/testdata/faces beside the checkout).
FACES = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "faces"


@dataclass
class Club:
    org: Organisation
    staff: User
    guardian: User
    team: Group
    obama: Child
    biden: Child


def club(session: Session) -> Club:
    org = factories.organisation(session)
    staff = factories.user(session, org, Role.STAFF)
    guardian = factories.user(session, org, Role.GUARDIAN)
    team = factories.group(session, org)
    obama = factories.child(session, org, first_name="Barack", guardians=(guardian,))
    biden = factories.child(session, org, first_name="Joe", guardians=(guardian,))
    return Club(org, staff, guardian, team, obama, biden)


def enroll(session: Session, org: Organisation, kid: Child, portrait: str) -> None:
    with (FACES / portrait).open("rb") as source, ingest.receive(source) as received:
        enrollment.enroll_portrait(
            session=session,
            organisation=org,
            child=kid,
            path=received.path,
            user=None,
            now=utcnow(),
        )


def event(session: Session, c: Club, name: str = "Tournament") -> Event:
    return service.create_event(
        session=session,
        organisation=c.org,
        name=name,
        event_date=date(2026, 11, 21),
        group_ids=[c.team.id],
        user=c.staff,
    )


def upload(session: Session, c: Club, ev: Event, paths: Iterable[Path | str]) -> list[Photo]:
    photos = []
    for path in paths:
        path = FACES / path if isinstance(path, str) else path
        with path.open("rb") as source:
            result = service.add_upload(
                session=session,
                organisation=c.org,
                event=ev,
                source=source,
                filename=path.name,
                user=c.staff,
            )
        assert result.photo is not None, result.error
        photos.append(result.photo)
    return photos


def unknown_faces(db: Session, photo: Photo) -> list[Face]:
    """Faces awaiting review, left to right (in obama_and_biden.jpg: biden, then the child)."""
    waiting = [f for f in faces_of(db, photo) if f.state == FaceState.UNKNOWN]
    return sorted(waiting, key=lambda f: f.x)


def analysed_group_photo(db: Session) -> tuple[Club, Event, Photo]:
    """Obama enrolled with every consent; biden consents to recognition and the gallery."""
    c = club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_consent.decide(
        db, c.org, c.biden, c.guardian, {"face_recognition": True, "internal_gallery": True}
    )
    enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    child_service.set_child_groups(session=db, organisation=c.org, child=c.obama, groups=[c.team])
    ev = event(db, c)
    (photo,) = upload(db, c, ev, ["groups/obama_and_biden.jpg"])
    processing.process_next(session=db)
    db.refresh(photo)
    return c, ev, photo


def faces_of(db: Session, photo: Photo) -> list[Face]:
    return list(db.exec(select(Face).where(Face.photo_id == photo.id).order_by(col(Face.id))))


def analysed_club(db: Session) -> tuple[Club, Event, list[Photo]]:
    """Obama (all consents, enrolled), a stranger and a photo without faces, all analysed."""
    c = club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    ev = event(db, c)
    photos = upload(
        db, c, ev, ["portraits/obama_2.jpg", "portraits/kit_harington_1.jpeg", "negative/dogs.jpg"]
    )
    while processing.process_next(session=db):
        pass
    for photo in photos:
        db.refresh(photo)
    return c, ev, photos


def uploads_in_flight() -> list[Path]:
    """What uploads left in the scratch folder. A paper form's held scan (`held-*.part`, kept on
    purpose until the form is sent again or the sweep) is not an upload's leftover."""
    return [p for p in photo_storage.incoming_dir().iterdir() if not p.name.startswith("held-")]
