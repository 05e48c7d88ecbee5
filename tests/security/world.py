"""Two clubs with everything a route can name, and one signed-in browser per role.

Every name in the data carries a marker word that appears nowhere else (not in templates, not in
code), so a response that contains a marker its viewer may not see is a leak, whatever the page.

Club 1 ("Zwindor") and club 2 ("Quillomb") each have: an admin, a staff member, two teams, two
families (guardian + child, one team each), consent decisions, an event per team with a photo whose
face is confirmed as that team's child, a paper decision with its scan, a guardian's personal
link, a removal request, a publication, a finished CSV import and one waiting for confirmation.
Club 1 also has family L, whose guardian has no password and signs in through a personal link.
"""

from __future__ import annotations

import io
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import unquote

from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from consentlens.auth import links
from consentlens.auth import service as accounts
from consentlens.auth.models import ConsentLink, Role, User
from consentlens.consent import evidence
from consentlens.consent import service as consent
from consentlens.core.tables import utcnow
from consentlens.faces import analysis, verdicts
from consentlens.faces.detector import DetectedFace, PhotoFaces
from consentlens.faces.models import Face, FaceState
from consentlens.gallery.models import RemovalRequest
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people import groups as group_service
from consentlens.people import guardianships
from consentlens.people.models import Child, Group
from consentlens.photos import service as photos
from consentlens.photos.models import Event, Photo
from consentlens.publishing import service as publishing
from consentlens.publishing.models import PublishedPhoto
from tests.conftest import bearer, csrf_from, login
from tests.factories import PASSWORD
from tests.factories.consent import grant_all
from tests.security.harness import Harness, send

ROLES = (
    "anonymous",
    "guardian_a",
    "guardian_b",
    "guardian_link",
    "staff_1",
    "admin_1",
    "staff_2",
    "admin_2",
)

# Marker words, per club: organisation, team A, team B, family A, family B, event A, event B,
# staff, admin, imported family; club 1 also has family L.
MARKERS = {
    1: {
        "org": "Zwindor",
        "team_a": "Orkanta",
        "team_b": "Pumbrix",
        "family_a": "Fennwick",
        "family_b": "Grimzald",
        "event_a": "Regattox",
        "event_b": "Derbyxo",
        "staff": "Ivorsky",
        "admin": "Jorvikka",
        "imported": "Kestrova",
        "family_l": "Hollvane",
    },
    2: {
        "org": "Quillomb",
        "team_a": "Ravenzo",
        "team_b": "Sharqan",
        "family_a": "Tolbergh",
        "family_b": "Ulmorra",
        "event_a": "Festivox",
        "event_b": "Galdorin",
        "staff": "Vancorr",
        "admin": "Wexlore",
        "imported": "Yarrowin",
    },
}
ALL_MARKERS = frozenset(word for club in MARKERS.values() for word in club.values())


def _visible(club: int, *keys: str) -> frozenset[str]:
    return frozenset(MARKERS[club][key] for key in keys)


# What each role may read; any other marker in a response it gets is someone else's data.
VISIBLE = {
    "anonymous": frozenset(),
    "guardian_a": _visible(1, "org", "team_a", "family_a", "event_a", "staff", "admin"),
    "guardian_b": _visible(1, "org", "team_b", "family_b", "event_b", "staff", "admin"),
    "guardian_link": _visible(1, "org", "family_l", "staff", "admin"),
    "staff_1": frozenset(MARKERS[1].values()),
    "admin_1": frozenset(MARKERS[1].values()),
    "staff_2": frozenset(MARKERS[2].values()),
    "admin_2": frozenset(MARKERS[2].values()),
}


def forbidden_markers(role: str) -> frozenset[str]:
    return ALL_MARKERS - VISIBLE[role]


@dataclass
class Family:
    guardian: User
    child: Child
    team: Group | None
    event: Event | None
    photo: Photo
    face: Face  # a stranger's face on the photo, awaiting review


@dataclass
class Club:
    number: int
    org: Organisation
    admin: User
    staff: User
    team_a: Group
    team_b: Group
    a: Family
    b: Family
    link: ConsentLink  # family A's guardian's personal link
    decision_id: int  # a paper decision of family A's child, with its scan
    removal_id: int
    published_id: int
    import_done: str = ""
    import_pending: str = ""
    l: Family | None = None  # noqa: E741 - family L, as in the issue
    l_link: ConsentLink | None = None

    def ids(self, family: str = "a") -> dict[str, Any]:
        """Ids to put in a URL or form, from this club's point of view of one family."""
        fam: Family = getattr(self, family)
        event = fam.event or self.a.event
        assert event is not None
        return {
            "group_id": (fam.team or self.team_a).id,
            "child_id": fam.child.id,
            "guardian_id": fam.guardian.id,
            "guardian_email": fam.guardian.email,
            "link_id": self.link.id,
            "decision_id": self.decision_id,
            "event_id": event.id,
            "photo_id": fam.photo.id,
            "face_id": fam.face.id,
            "request_id": self.removal_id,
            "published_id": self.published_id,
            # A staff account of the club (the staff-account pages act on it).
            "user_id": self.staff.id,
            "import_done": self.import_done,
            "import_pending": self.import_pending,
        }


@dataclass
class Actor:
    role: str
    client: TestClient
    csrf: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # the bearer token, if any
    _cookies: list[Any] = field(default_factory=list)

    def snapshot(self) -> None:
        self._cookies = list(self.client.cookies.jar)

    def restore(self) -> None:
        """Back to the browser state right after signing in, whatever the last request did."""
        self.client.cookies.clear()
        for cookie in self._cookies:
            self.client.cookies.jar.set_cookie(cookie)


@dataclass
class World:
    harness: Harness
    clubs: dict[int, Club]
    actors: dict[str, Actor]
    link_token: str  # family L's personal link, as in its URL

    def own_ids(self, role: str) -> dict[str, Any]:
        """The ids a role has a claim to (for roles without a claim: club 1's)."""
        c1, c2 = self.clubs[1], self.clubs[2]
        by_role = {
            "anonymous": c1.ids("a"),
            "guardian_a": c1.ids("a"),
            "guardian_b": c1.ids("b"),
            "guardian_link": c1.ids("l"),
            "staff_1": c1.ids("a"),
            "admin_1": c1.ids("a"),
            "staff_2": c2.ids("a"),
            "admin_2": c2.ids("a"),
        }
        return {**by_role[role], **self._constants()}

    def foreign_ids(self, role: str) -> dict[str, Any]:
        """Real ids of someone else: another club for staff, another family for guardians."""
        c1, c2 = self.clubs[1], self.clubs[2]
        by_role = {
            "anonymous": c2.ids("a"),
            "guardian_a": c1.ids("b"),
            "guardian_b": c1.ids("a"),
            "guardian_link": c1.ids("a"),
            "staff_1": c2.ids("a"),
            "admin_1": c2.ids("a"),
            "staff_2": c1.ids("a"),
            "admin_2": c1.ids("a"),
        }
        return {**by_role[role], **self._constants()}

    def _constants(self) -> dict[str, Any]:
        return {"token": self.link_token, "locale": "en"}


# --- building ---------------------------------------------------------------------------------


def jpeg(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    """A small photo of noise, different for every seed (uploads are deduplicated by content)."""
    rng = random.Random(seed)
    image = Image.new("RGB", size)
    image.putdata(
        [(rng.randrange(256), rng.randrange(256), rng.randrange(256))] * (size[0] * size[1])
    )
    for x in range(0, size[0], 8):
        image.putpixel((x, rng.randrange(size[1])), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def png(seed: int = 0) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (seed % 256, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _account(session: Session, first: str, last: str, *, password: str | None = PASSWORD) -> User:
    return accounts.create_user(
        session=session,
        email=f"{first.lower()}.{last.lower()}@example.test",
        full_name=f"{first} {last}",
        password=password,
        locale="en",
    )


_seed = iter(range(1, 10_000))


def _photo_of(
    session: Session, org: Organisation, event: Event, child: Child, staff: User
) -> tuple[Photo, Face]:
    """An analysed photo of `child` (a face confirmed by staff) and of a stranger whose face
    awaits review; returns the photo and the stranger's face. No face model is needed."""
    result = photos.add_upload(
        session=session,
        organisation=org,
        event=event,
        source=io.BytesIO(jpeg(next(_seed))),
        filename=f"photo-{uuid.uuid4().hex[:6]}.jpg",
        user=staff,
    )
    photo = result.photo
    assert photo is not None, result.error
    now = utcnow()
    detected = tuple(
        DetectedFace(box=box, score=0.99, embedding=None, too_small=False, analysis_px=80)
        for box in ((40, 60, 80, 80), (200, 60, 80, 80))
    )
    named, stranger = analysis.apply(
        session=session,
        organisation=org,
        photo=photo,
        result=PhotoFaces(original_size=(photo.width, photo.height), faces=detected),
        now=now,
    )
    named.state = FaceState.CONFIRMED.value
    named.child_id = child.id
    named.reviewed_by_id = staff.id
    named.reviewed_at = now
    stranger.state = FaceState.UNKNOWN.value
    session.add_all([named, stranger])
    photo.status = analysis.status_after_faces([named, stranger]).value
    session.add(photo)
    session.flush()
    verdicts.refresh(session=session, organisation=org, photo_ids=[photo.id], now=now)
    return photo, stranger


def _family(
    session: Session,
    org: Organisation,
    staff: User,
    word: str,
    first: tuple[str, str],
    *,
    born: date = date(2016, 5, 1),
    team: Group | None,
    event: Event | None,
    photo_event: Event,
    password: str | None = PASSWORD,
) -> Family:
    guardian = _account(session, first[0], word, password=password)
    child = child_service.create_child(
        session=session,
        organisation=org,
        first_name=first[1],
        last_name=word,
        birth_date=born,
        groups=[team] if team else [],
    )
    guardianships.create_guardianship(session=session, organisation=org, child=child, user=guardian)
    grant_all(session, org, child, guardian)
    photo, face = _photo_of(session, org, photo_event, child, staff)
    return Family(guardian, child, team, event, photo, face)


def _club(session: Session, number: int) -> Club:
    m = MARKERS[number]
    org = organisations.create_organisation(
        session=session,
        name=f"Club {m['org']}",
        slug=f"club-{m['org'].lower()}-{uuid.uuid4().hex[:8]}",
        today=date(2026, 11, 24),
        default_locale="en",
    )
    admin = _account(session, "Ada", m["admin"])
    accounts.add_membership(session=session, user=admin, organisation=org, role=Role.ADMIN)
    staff = _account(session, "Sten", m["staff"])
    accounts.add_membership(session=session, user=staff, organisation=org, role=Role.STAFF)
    team_a = group_service.create_group(
        session=session, organisation=org, name=f"Team {m['team_a']}"
    )
    team_b = group_service.create_group(
        session=session, organisation=org, name=f"Team {m['team_b']}"
    )

    def event(name: str, team: Group) -> Event:
        return photos.create_event(
            session=session,
            organisation=org,
            name=name,
            event_date=date(2026, 11, 21),
            group_ids=[team.id],
            user=staff,
        )

    event_a, event_b = event(f"Cup {m['event_a']}", team_a), event(f"Cup {m['event_b']}", team_b)
    a = _family(
        session,
        org,
        staff,
        m["family_a"],
        ("Alma", "Arlo"),
        born=date(2013, 5, 1),
        team=team_a,
        event=event_a,
        photo_event=event_a,
    )
    b = _family(
        session,
        org,
        staff,
        m["family_b"],
        ("Bea", "Bodi"),
        team=team_b,
        event=event_b,
        photo_event=event_b,
    )
    now = utcnow()
    uses = {u.code: u for u in consent.list_uses(session=session, organisation=org)}
    scan = evidence.store_scan(session=session, data=png(number), organisation_id=org.id)
    decision = consent.record_decision(
        session=session,
        organisation=org,
        child=a.child,
        use=uses["press"],
        granted=True,
        method="paper",
        now=now,
        guardian=a.guardian,
        recorded_by=staff,
        decided_at=now - timedelta(hours=1),
        evidence_ref=scan,
    )
    link = links.create_link(
        session=session, organisation=org, now=now, guardian=a.guardian, created_by=staff
    )
    removal = RemovalRequest(
        organisation_id=org.id, photo_id=a.photo.id, requested_by_id=a.guardian.id, message="Please"
    )
    session.add(removal)
    publishing.publish(
        session=session,
        organisation=org,
        user=staff,
        use="website",
        photos=[a.photo],
        size="thumb",
        title="Website",
        now=now,
    )
    published = session.exec(
        select(PublishedPhoto).where(PublishedPhoto.photo_id == a.photo.id)
    ).one()
    session.flush()
    club = Club(
        number=number,
        org=org,
        admin=admin,
        staff=staff,
        team_a=team_a,
        team_b=team_b,
        a=a,
        b=b,
        link=link,
        decision_id=decision.id,
        removal_id=removal.id,
        published_id=published.id,
    )
    if number == 1:
        # Family L: no password, no team; their child's photo is in team A's event.
        club.l = _family(
            session,
            org,
            staff,
            m["family_l"],
            ("Lia", "Lumo"),
            team=None,
            event=None,
            photo_event=event_a,
            password=None,
        )
        club.l_link = links.create_link(
            session=session, organisation=org, now=now, guardian=club.l.guardian
        )
    return club


IMPORT_HEADER = "lidnummer;voornaam;achternaam;geboortedatum;groep;ouder1_naam;ouder1_email"


def import_csv(word: str, first: str) -> bytes:
    """A CSV with one child (and a new guardian) of family `word`, as Excel saves it."""
    parent = f"{first.lower()}.parent.{word.lower()}@example.test"
    member = f"{first[:2].upper()}{word[:3].upper()}"
    cells = [member, first, word, "14/03/2016", f"Team {word}", f"{first}s Parent {word}", parent]
    row = ";".join(cells)
    return f"{IMPORT_HEADER}\r\n{row}\r\n".encode()


_CONFIRM_TOKEN = re.compile(r'name="token" value="([^"]+)"')


def _imports(actor: Actor, word: str) -> tuple[str, str]:
    """A finished import (its result token) and one waiting for confirmation (its token)."""

    def preview(first: str) -> str:
        response = actor.client.post(
            "/staff/import/preview",
            data={"csrf_token": actor.csrf},
            files={"file": ("members.csv", import_csv(word, first), "text/csv")},
        )
        assert response.status_code == 200, response.text
        match = _CONFIRM_TOKEN.search(response.text)
        assert match, "the import preview has no confirm form"
        return match.group(1)

    done = actor.client.post(
        "/staff/import/confirm", data={"csrf_token": actor.csrf, "token": preview("Ivo")}
    )
    assert done.status_code == 303, done.text
    done_token = done.headers["location"].split("token=", 1)[1]
    return unquote(done_token), preview("Ines")


# Pages that render a form (and so hand out the session's CSRF token) for whoever is signed in.
_CSRF_PAGES = ("/code", "/login", "/account/password", "/consent", "/family", "/admin")


def _csrf(client: TestClient) -> str:
    for page in _CSRF_PAGES:
        response = send(client, "GET", page)
        if response.status_code == 200 and 'name="csrf_token"' in response.text:
            return csrf_from(response.text)
    raise AssertionError("no page handed out a CSRF token")


def build(harness: Harness) -> World:
    # Objects keep their loaded values after the commit: the ids are read long after.
    with harness.session(expire_on_commit=False) as session:
        clubs = {number: _club(session, number) for number in (1, 2)}
        session.commit()
        c1, c2 = clubs[1], clubs[2]
        assert c1.l_link is not None
        link_path = links.url_for(c1.l_link).split("://", 1)[1]
        link_path = link_path[link_path.index("/") :]
        signers = {
            "guardian_a": c1.a.guardian,
            "guardian_b": c1.b.guardian,
            "staff_1": c1.staff,
            "admin_1": c1.admin,
            "staff_2": c2.staff,
            "admin_2": c2.admin,
        }
        emails = {role: user.email for role, user in signers.items()}
    actors: dict[str, Actor] = {}
    for role in ROLES:
        client = harness.client()
        client.cookies.set("lang", "en")
        actor = Actor(role, client)
        if role in emails:
            login(client, emails[role], PASSWORD)
            try:
                actor.headers = bearer(client, emails[role], PASSWORD)
            except AssertionError:
                actor.headers = {}  # no API token for this kind of account: the API refuses it
        elif role == "guardian_link":
            opened = client.get(link_path)
            assert opened.status_code == 303, opened.text
        actor.csrf = _csrf(client)
        actor.snapshot()
        actors[role] = actor
    for number, role in ((1, "staff_1"), (2, "staff_2")):
        clubs[number].import_done, clubs[number].import_pending = _imports(
            actors[role], MARKERS[number]["imported"]
        )
        actors[role].restore()
    return World(harness, clubs, actors, link_path.rsplit("/", 1)[1])
