"""The private gallery through the real application: what guardians can reach (and cannot), how
faces are covered, removal requests, downloads, the image throttle, and the staff gallery."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date

import numpy as np
from PIL import Image
from sqlmodel import Session, select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role, User
from consentlens.consent import service as consent
from consentlens.core import throttle
from consentlens.core.tables import utcnow
from consentlens.faces import derivatives, processing, verdicts
from consentlens.faces.models import Face, StoredVerdict
from consentlens.gallery.models import RemovalRequest
from consentlens.gallery.scopes import PAGE_SIZE
from consentlens.people import children as child_service
from consentlens.people.models import Child, Group
from consentlens.photos import storage
from consentlens.photos.models import Event, Photo, PhotoStatus
from consentlens.photos.service import create_event
from tests import factories
from tests.conftest import csrf_from, sign_in
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos
from tests.images import covered_fraction

STRANGER = "portraits/kit_harington_1.jpeg"  # a face nobody enrolled: blurred in the gallery
DOGS = "negative/dogs.jpg"  # no faces: shown as it is


@dataclass
class World:
    c: make_photos.Club
    event: Event  # of the guardian's team
    other_event: Event  # of another team only
    pair: Photo  # obama (all consents) and biden (no gallery consent) in the team's event
    obama: Photo  # obama alone, in the team's event
    biden_away: Photo  # biden alone, in the other team's event
    rose: Photo  # another family's child, in the other team's event
    other_team: Group
    rose_child: Child
    other_parent: User


def _analyse(db: Session) -> None:
    while processing.process_next(session=db):
        pass


def _world(db: Session) -> World:
    """Our guardian's Barack plays in the team; Joe plays nowhere; Rose (another family) plays
    in another team. Barack and Joe's photos are recognised, Joe has no gallery consent."""
    c = make_photos.club(db)
    other_team = factories.group(db, c.org)
    other_parent = factories.user(db, c.org, Role.GUARDIAN)
    rose = factories.child(db, c.org, first_name="Rose", guardians=(other_parent,))
    child_service.set_child_groups(session=db, organisation=c.org, child=c.obama, groups=[c.team])
    child_service.set_child_groups(session=db, organisation=c.org, child=rose, groups=[other_team])
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_consent.decide(db, c.org, c.biden, c.guardian, {"face_recognition": True})
    make_consent.grant_all(db, c.org, rose, other_parent)
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    make_photos.enroll(db, c.org, c.biden, "portraits/biden_1.jpg")
    make_photos.enroll(db, c.org, rose, "portraits/rose_leslie_1.jpg")
    event = make_photos.event(db, c)
    other_event = create_event(
        session=db,
        organisation=c.org,
        name="Away match",
        event_date=date(2026, 11, 28),
        group_ids=[other_team.id],
        user=c.staff,
    )
    pair, obama = make_photos.upload(
        db, c, event, ["groups/obama_and_biden.jpg", "portraits/obama_2.jpg"]
    )
    biden_away, rose_photo = make_photos.upload(
        db, c, other_event, ["portraits/biden_2.jpg", "portraits/rose_leslie_2.jpg"]
    )
    _analyse(db)
    return World(
        c, event, other_event, pair, obama, biden_away, rose_photo, other_team, rose, other_parent
    )


def _team_photos(db: Session, paths: list) -> tuple[make_photos.Club, Event, list[Photo]]:
    """A lighter club: Barack in the team, the team's event with these photos, analysed."""
    c = make_photos.club(db)
    child_service.set_child_groups(session=db, organisation=c.org, child=c.obama, groups=[c.team])
    ev = make_photos.event(db, c)
    photos = make_photos.upload(db, c, ev, paths)
    _analyse(db)
    return c, ev, photos


def _as(client, user: User) -> str:
    """Sign in (in English, which the assertions read) and return a CSRF token."""
    client.cookies.clear()
    sign_in(client, user.email)
    return csrf_from(client.get("/account/password").text)


def _foreign_photo(db: Session) -> Photo:
    other = make_photos.club(db)
    ev = make_photos.event(db, other)
    (photo,) = make_photos.upload(db, other, ev, ["negative/dogs.jpg"])
    _analyse(db)
    return photo


def _faces(db: Session, photo: Photo) -> dict[int | None, Face]:
    return {f.child_id: f for f in db.exec(select(Face).where(Face.photo_id == photo.id))}


def _gallery_verdict(db: Session, photo: Photo) -> StoredVerdict:
    verdict = db.get(StoredVerdict, (photo.id, "internal_gallery"))
    assert verdict is not None
    return verdict


def _difference(jpeg: bytes, photo: Photo, face: Face) -> float:
    """Mean difference per pixel in the face box between a rendering and the untouched photo."""
    served = Image.open(io.BytesIO(jpeg)).convert("RGB")
    original = derivatives.open_upright(str(storage.path_of(photo.original_ref))).convert("RGB")
    original = original.resize(served.size, Image.Resampling.LANCZOS)
    scale = served.width / photo.width
    box = tuple(int(v * scale) for v in (face.x, face.y, face.x + face.w, face.y + face.h))
    a = np.asarray(served.crop(box), dtype=np.int16)
    b = np.asarray(original.crop(box), dtype=np.int16)
    return float(np.abs(a - b).mean())


def _jpeg(response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    return Image.open(io.BytesIO(response.content))


def test_a_guardian_reaches_their_groups_photos_blurred_and_nothing_of_anyone_else(client, db):
    w = _world(db)
    foreign = _foreign_photo(db)
    foreign_event = db.get(Event, foreign.event_id)
    guessed = max(p.id for p in db.exec(select(Photo))) + 1000
    token = _as(client, w.c.guardian)

    home = client.get("/gallery")
    assert home.status_code == 200
    assert f'href="/gallery/events/{w.event.id}"' in home.text and w.event.name in home.text
    assert f"/gallery/events/{w.other_event.id}" not in home.text and "Away match" not in home.text
    assert 'href="/gallery/mine"' in home.text and "Photos of my children" in home.text

    listed = client.get(f"/gallery/events/{w.event.id}")
    assert listed.status_code == 200
    assert f'href="/gallery/photos/{w.pair.id}"' in listed.text
    assert f'href="/gallery/photos/{w.obama.id}"' in listed.text
    assert 'loading="lazy"' in listed.text and 'alt="Photo from Tournament' in listed.text
    for absent in (w.rose, w.biden_away, foreign):
        assert f"/gallery/photos/{absent.id}" not in listed.text

    # Joe plays in no team, but a photo naming him is his guardian's to see, wherever it is.
    mine = client.get("/gallery/mine").text
    for present in (w.pair, w.obama, w.biden_away):
        assert f'href="/gallery/photos/{present.id}?view=mine"' in mine
    assert f"/gallery/photos/{w.rose.id}" not in mine

    page = client.get(f"/gallery/photos/{w.pair.id}")
    assert page.status_code == 200
    assert f'src="/gallery/photos/{w.pair.id}/image?size=display"' in page.text
    assert f'href="/gallery/photos/{w.pair.id}/download"' in page.text
    assert "Ask the club to remove this photo" in page.text
    assert "Some faces are blurred" in page.text

    # Rendered per the gallery verdict: Joe (no gallery consent) covered, Barack not.
    faces = _faces(db, w.pair)
    assert faces[w.c.biden.id].id in _gallery_verdict(db, w.pair).faces_to_blur
    for size in ("display", "thumb"):
        response = client.get(f"/gallery/photos/{w.pair.id}/image?size={size}")
        _jpeg(response)
        assert response.headers["cache-control"] == "private, no-store"
        assert covered_fraction(response.content, w.pair, faces[w.c.biden.id]) > 0.9
        # Barack's face is the photo itself: what is left of it differs from the original only by
        # the resampling; Joe's differs completely.
        assert _difference(response.content, w.pair, faces[w.c.obama.id]) < 8
        assert _difference(response.content, w.pair, faces[w.c.biden.id]) > 30
    alone = client.get(f"/gallery/photos/{w.biden_away.id}/image?size=display")
    assert (
        covered_fraction(alone.content, w.biden_away, _faces(db, w.biden_away)[w.c.biden.id]) > 0.9
    )

    # Another group's family, another club, an id nobody has: all simply do not exist.
    answers = []
    for photo_id in (w.rose.id, foreign.id, guessed):
        for url in (
            f"/gallery/photos/{photo_id}",
            f"/gallery/photos/{photo_id}/image?size=thumb",
            f"/gallery/photos/{photo_id}/image?size=display",
            f"/gallery/photos/{photo_id}/download",
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            # The page around it names the URL (language links); what it says must not differ.
            answers.append(response.text.split("<main", 1)[1].split("</main>")[0])
        removal = client.post(
            f"/gallery/photos/{photo_id}/removal", data={"csrf_token": token, "message": "x"}
        )
        assert removal.status_code == 404
    assert len(set(answers)) == 1, "a guessed id must look exactly like someone else's photo"
    for event_id in (w.other_event.id, foreign_event.id, guessed):
        assert client.get(f"/gallery/events/{event_id}").status_code == 404
    assert db.exec(select(RemovalRequest)).all() == []
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "photos.downloaded")).all() == []

    # The other family sees their own group's photo, and not ours.
    _as(client, w.other_parent)
    assert client.get(f"/gallery/photos/{w.rose.id}/image?size=thumb").status_code == 200
    assert client.get(f"/gallery/photos/{w.obama.id}/image?size=thumb").status_code == 404
    assert client.get(f"/gallery/events/{w.event.id}").status_code == 404


def test_a_photo_the_gallery_hides_is_not_listed_and_its_image_is_gone(client, db):
    c, ev, (stranger, dogs) = _team_photos(db, [STRANGER, DOGS])
    _as(client, c.guardian)
    assert client.get(f"/gallery/photos/{stranger.id}/image").status_code == 200

    # The club decides its gallery hides photos with a face lacking consent (the stranger's).
    (gallery_use,) = [
        u for u in consent.list_uses(session=db, organisation=c.org) if u.code == "internal_gallery"
    ]
    gallery_use.unconsented_action = "hide"
    db.add(gallery_use)
    db.flush()

    # The stored verdict still says blur: the live one is what counts, and it is then stored.
    assert _gallery_verdict(db, stranger).action == "blur"
    for url in (
        f"/gallery/photos/{stranger.id}/image?size=thumb",
        f"/gallery/photos/{stranger.id}/download",
        f"/gallery/photos/{stranger.id}",
    ):
        assert client.get(url).status_code == 404, url
    db.expire_all()
    assert _gallery_verdict(db, stranger).action == "hide"
    listed = client.get(f"/gallery/events/{ev.id}").text
    assert f"/gallery/photos/{stranger.id}" not in listed
    assert f'href="/gallery/photos/{dogs.id}"' in listed
    token = csrf_from(listed)
    response = client.post(f"/gallery/photos/{stranger.id}/removal", data={"csrf_token": token})
    assert response.status_code == 404
    assert db.exec(select(RemovalRequest)).all() == []


def test_a_removal_request_is_recorded_audited_and_resolved_by_staff(client, db):
    c, _, (photo,) = _team_photos(db, [DOGS])
    token = _as(client, c.guardian)
    message = "Barack would rather not be online.\nThanks!"
    missing = client.post(f"/gallery/photos/{photo.id}/removal", data={"message": message})
    assert missing.status_code == 403
    too_long = client.post(
        f"/gallery/photos/{photo.id}/removal", data={"csrf_token": token, "message": "x" * 1001}
    )
    assert too_long.status_code == 400 and "The message is too long" in too_long.text
    assert db.exec(select(RemovalRequest)).all() == []

    response = client.post(
        f"/gallery/photos/{photo.id}/removal", data={"csrf_token": token, "message": message}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/gallery/photos/{photo.id}?done=removal"
    thanks = client.get(response.headers["location"])
    assert "Thank you. The club has your request" in thanks.text
    assert "You asked the club to remove this photo on" in thanks.text
    # Asking twice (a double tap) keeps one request.
    client.post(f"/gallery/photos/{photo.id}/removal", data={"csrf_token": token})
    (removal,) = db.exec(select(RemovalRequest)).all()
    assert (removal.photo_id, removal.requested_by_id) == (photo.id, c.guardian.id)
    assert removal.message == message
    assert removal.organisation_id == c.org.id and removal.resolved_at is None
    (event,) = db.exec(
        select(AuditEvent).where(AuditEvent.action == "photos.removal_requested")
    ).all()
    assert event.subject_id == str(photo.id) and event.actor_id == c.guardian.id
    assert "message" not in event.details
    assert client.get("/staff/removal-requests").status_code == 403

    token = _as(client, c.staff)
    assert "Removal requests" in client.get("/staff/gallery").text
    page = client.get("/staff/removal-requests")
    assert page.status_code == 200
    assert c.guardian.full_name in page.text and "Barack would rather not be online." in page.text
    assert f'href="/staff/photos/{photo.id}"' in page.text
    assert f'src="/gallery/photos/{photo.id}/image?size=thumb"' in page.text
    assert client.get(f"/gallery/photos/{photo.id}/image?size=thumb").status_code == 200

    wrong = client.post(
        f"/staff/removal-requests/{removal.id}", data={"csrf_token": token, "outcome": "x"}
    )
    assert wrong.status_code == 400
    no_reason = client.post(
        f"/staff/removal-requests/{removal.id}", data={"csrf_token": token, "outcome": "declined"}
    )
    assert no_reason.status_code == 400 and "Say why the photo stays" in no_reason.text
    done = client.post(
        f"/staff/removal-requests/{removal.id}", data={"csrf_token": token, "outcome": "hidden"}
    )
    assert done.status_code == 303
    db.refresh(removal)
    assert removal.resolution == "hidden" and removal.resolved_by_id == c.staff.id
    assert removal.resolved_at is not None
    db.refresh(photo)
    assert photo.hidden_at is not None and photo.hidden_by_id == c.staff.id
    resolved = db.exec(
        select(AuditEvent).where(AuditEvent.action == "photos.removal_resolved")
    ).one()
    assert resolved.details == {"photo_id": photo.id, "resolution": "hidden"}
    after = client.get(done.headers["location"]).text
    assert "hidden from everyone" in after and "Barack would rather not be online." not in after
    again = client.post(
        f"/staff/removal-requests/{removal.id}",
        data={"csrf_token": token, "outcome": "declined", "reason": "x"},
    )
    assert again.headers["location"].endswith("done=already")
    db.refresh(removal)
    assert removal.resolution == "hidden"


def test_a_download_is_an_audited_attachment_of_the_gallery_rendering(client, db):
    c, _, (stranger,) = _team_photos(db, [STRANGER])
    _as(client, c.guardian)
    response = client.get(f"/gallery/photos/{stranger.id}/download")
    image = _jpeg(response)
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="photo-{stranger.id}.jpg"'
    assert response.headers["cache-control"] == "private, no-store"
    assert max(image.size) <= 1600 and not image.getexif()
    assert covered_fraction(response.content, stranger, _faces(db, stranger)[None]) > 0.9
    (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "photos.downloaded")).all()
    assert event.subject_type == "photo" and event.subject_id == str(stranger.id)
    assert event.actor_id == c.guardian.id and event.organisation_id == c.org.id


def test_staff_filter_the_gallery_and_see_each_photos_verdicts(client, db):
    w = _world(db)
    (stranger,) = make_photos.upload(db, w.c, w.event, ["portraits/kit_harington_1.jpeg"])
    _analyse(db)
    db.refresh(stranger)
    assert stranger.status == PhotoStatus.NEEDS_REVIEW
    foreign = _foreign_photo(db)
    _as(client, w.c.staff)

    def shown(query: str = "") -> set[int]:
        response = client.get(f"/staff/gallery{query}")
        assert response.status_code == 200
        everything = (w.pair, w.obama, w.biden_away, w.rose, stranger, foreign)
        return {p.id for p in everything if f'href="/staff/photos/{p.id}"' in response.text}

    everyone = {w.pair.id, w.obama.id, w.biden_away.id, w.rose.id, stranger.id}
    assert shown() == everyone
    waiting = {p.id for p in db.exec(select(Photo).where(Photo.status == PhotoStatus.NEEDS_REVIEW))}
    assert stranger.id in waiting and w.obama.id not in waiting
    assert shown("?show=needs_review") == waiting
    assert shown(f"?child={w.c.obama.id}") == {w.pair.id, w.obama.id}
    assert shown(f"?child={w.rose_child.id}&group=&event=&show=") == {w.rose.id}
    assert shown(f"?group={w.other_team.id}") == {w.biden_away.id, w.rose.id}
    assert shown(f"?event={w.event.id}&show=needs_review") == waiting - {w.biden_away.id, w.rose.id}
    assert shown("?show=failed") == set()
    assert shown("?show=nonsense&child=abc") == everyone

    page = client.get("/staff/gallery").text
    # Overlays: the status and what each use does with the photo.
    lines = {re.sub(r"<[^>]+>", "", line).strip() for line in page.splitlines()}
    assert "Needs review" in lines
    # Barack alone has every consent; Joe has none of the gallery, website or print.
    assert (
        "Shown: Private photo gallery, Club website, Newsletter and print, Social media, Press"
        in lines
    )
    assert (
        "Shown, faces blurred: Private photo gallery, Club website, Newsletter and print" in lines
    )
    assert "Hidden: Social media, Press" in lines
    assert f'src="/gallery/photos/{w.rose.id}/image?size=thumb"' in page
    assert client.get(f"/gallery/photos/{w.rose.id}/image?size=thumb").status_code == 200
    assert client.get(f"/gallery/photos/{foreign.id}/image?size=thumb").status_code == 404

    # The club's website hides photos with a face lacking consent: Joe has none for it.
    (website,) = [
        u for u in consent.list_uses(session=db, organisation=w.c.org) if u.code == "website"
    ]
    website.unconsented_action = "hide"
    db.add(website)
    verdicts.refresh(session=db, organisation=w.c.org, photo_ids=everyone, now=utcnow())
    assert shown("?show=hidden_from_website") == {w.pair.id, w.biden_away.id, stranger.id}
    assert shown(f"?show=hidden_from_website&child={w.c.obama.id}") == {w.pair.id}


def test_pages_of_48_continue_with_more_photos(client, db, tmp_path):
    paths = []
    for n in range(PAGE_SIZE + 1):
        # Distinct plain pictures without faces: quick to analyse, shown as they are.
        path = tmp_path / f"plain-{n}.jpg"
        Image.new("RGB", (96, 64), (n * 5 % 256, 120, 200 - n)).save(path, "JPEG")
        paths.append(path)
    c, ev, photos = _team_photos(db, paths)
    _as(client, c.guardian)
    first = client.get(f"/gallery/events/{ev.id}").text
    on_first = [p.id for p in photos if f'href="/gallery/photos/{p.id}"' in first]
    assert len(on_first) == PAGE_SIZE and photos[0].id not in on_first
    more = f"/gallery/events/{ev.id}?before={min(on_first)}"
    assert f'href="{more}"' in first and "More photos" in first
    second = client.get(more).text
    assert f'href="/gallery/photos/{photos[0].id}"' in second and "More photos" not in second
    assert 'width="96" height="64"' in second

    _as(client, c.staff)
    staff = client.get("/staff/gallery").text
    assert sum(f'href="/staff/photos/{p.id}"' in staff for p in photos) == PAGE_SIZE
    assert f'href="/staff/gallery?before={min(on_first)}"' in staff


def test_too_many_images_in_a_minute_are_refused(client, db, monkeypatch):
    c, _, (photo,) = _team_photos(db, [DOGS])
    monkeypatch.setattr(throttle, "_images", throttle.SlidingWindow(limit=2, window=60))
    _as(client, c.guardian)
    url = f"/gallery/photos/{photo.id}/image?size=thumb"
    assert [client.get(url).status_code for _ in range(2)] == [200, 200]
    refused = client.get(url)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    assert client.get(f"/gallery/photos/{photo.id}/download").status_code == 429
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "photos.downloaded")).all() == []


def test_only_guardians_open_the_family_gallery_and_only_staff_the_staff_one(client, db):
    c = make_photos.club(db)
    # A refused request rolls the session back: keep the club in the test's transaction.
    db.commit()
    assert client.get("/gallery").status_code == 303  # to the sign-in page
    assert client.get("/gallery/photos/1/image").status_code == 303
    _as(client, c.guardian)
    assert client.get("/staff/gallery").status_code == 403
    empty = client.get("/gallery")
    assert "There are no photos of your children's groups yet." in empty.text
    assert client.get("/gallery/mine").status_code == 200


def test_only_an_admin_deletes_a_photo_from_a_removal_request(client, db):
    c, _, (photo,) = _team_photos(db, [DOGS])
    token = _as(client, c.guardian)
    client.post(f"/gallery/photos/{photo.id}/removal", data={"csrf_token": token})
    (removal,) = db.exec(select(RemovalRequest)).all()
    token = _as(client, c.staff)
    page = client.get("/staff/removal-requests")
    assert 'value="hidden_family"' in page.text and 'value="deleted"' not in page.text
    refused = client.post(
        f"/staff/removal-requests/{removal.id}", data={"csrf_token": token, "outcome": "deleted"}
    )
    assert refused.status_code == 400 and "Only an administrator can delete" in refused.text
    db.refresh(removal)
    assert removal.resolved_at is None and db.get(Photo, photo.id) is not None

    admin = factories.user(db, c.org, Role.ADMIN)
    token = _as(client, admin)
    assert 'value="deleted"' in client.get("/staff/removal-requests").text
    confirm = client.post(
        f"/staff/removal-requests/{removal.id}", data={"csrf_token": token, "outcome": "deleted"}
    )
    assert confirm.status_code == 200 and "Delete the photo for good" in confirm.text
    assert db.get(Photo, photo.id) is not None, "nothing goes before the confirmation"
    done = client.post(
        f"/staff/removal-requests/{removal.id}",
        data={"csrf_token": token, "outcome": "deleted", "confirm": "yes"},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("done=deleted")
    db.expire_all()
    assert db.get(Photo, photo.id) is None
    assert db.get(RemovalRequest, removal.id).resolution == "deleted"
