"""Photo factories: a club with enrolled children, events, and real uploads of the shared photos."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import Session

from consentlens.auth.models import Role, User
from consentlens.core.tables import utcnow
from consentlens.faces import enrollment
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child, Group
from consentlens.photos import ingest, service
from consentlens.photos.models import Event, Photo
from tests import factories

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
