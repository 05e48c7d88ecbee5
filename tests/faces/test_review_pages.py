"""Staff review pages on real photos and the real models: the queue, face crops, the choices and
what they change, and reference faces enrolled and deleted from a child's page."""

from __future__ import annotations

import io
import re
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role
from consentlens.faces import processing
from consentlens.faces.models import FaceState, ReferenceFace, StoredVerdict
from consentlens.photos.models import Photo
from tests import factories
from tests.conftest import csrf_from, sign_in
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos
from tests.factories.photos import FACES, analysed_group_photo, faces_of, unknown_faces


def blurred(db: Session, photo: Photo, use: str) -> list[int]:
    verdict = db.exec(
        select(StoredVerdict).where(
            StoredVerdict.photo_id == photo.id, StoredVerdict.use_code == use
        )
    ).one()
    db.refresh(verdict)
    return list(verdict.faces_to_blur)


def choose(
    client: TestClient, event_id: int, face_ids: list[int], choice: str, **fields: str
) -> Any:  # the test client's response (httpx or httpx2)
    page = client.get(f"/staff/events/{event_id}/review")
    data: dict[str, object] = {
        "csrf_token": csrf_from(page.text),
        "choice": choice,
        "face_ids": [str(i) for i in face_ids],
        **fields,
    }
    return client.post(f"/staff/events/{event_id}/review", data=data)


def test_naming_a_face_confirms_it_adds_a_reference_and_rejudges_the_photo(client, db):
    c, ev, photo = analysed_group_photo(db)
    biden_face, child_face = unknown_faces(db, photo)
    assert biden_face.id in blurred(db, photo, "internal_gallery")
    sign_in(client, c.staff.email)

    page = client.get(f"/staff/events/{ev.id}/review")
    assert page.status_code == 200
    html = page.text
    assert html.count('class="card rv-group') == 2
    for face in (biden_face, child_face):
        assert f'src="/staff/faces/{face.id}/crop"' in html
        # One card each: a card's key is its first face.
        assert f'name="face_ids" value="{face.id}:{face.id}" checked' in html
    assert f'alt="Face 1 in photo {photo.id}"' in html
    assert f'href="/staff/photos/{photo.id}"' in html
    assert "Looks like" not in html and "Yes, this is" not in html
    # The event's team first, then everyone else, each in its own labelled option group.
    team = re.search(r'<optgroup label="In the groups of this event">(.*?)</optgroup>', html, re.S)
    others = re.search(r'<optgroup label="Other children of the club">(.*?)</optgroup>', html, re.S)
    assert team and "Barack Peeters" in team.group(1) and "Joe Peeters" not in team.group(1)
    assert others and "Joe Peeters" in others.group(1)
    assert '<label for="rv-child-1" class="visually-hidden">' in html and 'id="rv-child-1"' in html

    crop = client.get(f"/staff/faces/{biden_face.id}/crop")
    assert crop.status_code == 200
    assert crop.headers["content-type"] == "image/jpeg"
    assert crop.headers["cache-control"] == "private, no-store"
    image = Image.open(io.BytesIO(crop.content))
    assert image.format == "JPEG" and max(image.size) <= 200 and not image.getexif()

    response = choose(client, ev.id, [biden_face.id], "child", child_id=str(c.biden.id))
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/staff/events/{ev.id}/review?done=named")
    after = client.get(response.headers["location"])
    assert "1 face named Joe Peeters." in after.text
    assert f"/staff/faces/{biden_face.id}/crop" not in after.text
    assert f"/staff/faces/{child_face.id}/crop" in after.text

    db.refresh(biden_face)
    assert biden_face.state == FaceState.CONFIRMED and biden_face.child_id == c.biden.id
    assert biden_face.reviewed_by_id == c.staff.id and biden_face.embedding is None
    (reference,) = db.exec(select(ReferenceFace).where(ReferenceFace.child_id == c.biden.id))
    assert reference.source == "review" and reference.face_id == biden_face.id
    audited = db.exec(
        select(AuditEvent).where(
            AuditEvent.action == "photos.face_reviewed", AuditEvent.subject_id == str(biden_face.id)
        )
    ).one()
    assert audited.actor_id == c.staff.id and audited.details["child_id"] == c.biden.id
    gallery = blurred(db, photo, "internal_gallery")
    assert biden_face.id not in gallery and child_face.id in gallery
    # Website consent is not on record for biden: named, but still covered there.
    assert biden_face.id in blurred(db, photo, "website")
    assert client.get(f"/staff/faces/{biden_face.id}/crop").status_code == 404


def test_a_suggestion_is_confirmed_with_one_button(client, db):
    c = make_photos.club(db)
    for kid in (c.obama, c.biden):
        make_consent.grant_all(db, c.org, kid, c.guardian)
    # Two look-alike references: neither child is taken on trust, one is suggested.
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    make_photos.enroll(db, c.org, c.biden, "portraits/obama_2.jpg")
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["groups/obama_and_biden.jpg"])
    processing.process_next(session=db)
    (face,) = [f for f in faces_of(db, photo) if f.state == FaceState.UNCERTAIN]
    suggested = {c.obama.id: c.obama, c.biden.id: c.biden}[face.suggested_child_id]
    sign_in(client, c.staff.email)

    html = client.get(f"/staff/events/{ev.id}/review").text
    assert f"Looks like: {suggested.full_name}" in html
    assert f"Yes, this is {suggested.full_name}" in html
    # The select of the same form does not change what the button names.
    other = c.biden if suggested is c.obama else c.obama
    response = choose(
        client,
        ev.id,
        [face.id],
        "suggested",
        suggested_child_id=str(suggested.id),
        child_id=str(other.id),
    )
    assert response.status_code == 303
    assert f"1 face named {suggested.full_name}." in client.get(response.headers["location"]).text
    db.refresh(face)
    assert face.state == FaceState.CONFIRMED and face.child_id == suggested.id


def test_strangers_and_not_faces_leave_the_queue_and_unticked_faces_stay(client, db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_photos.enroll(db, c.org, c.obama, "portraits/kit_harington_1.jpeg")
    ev = make_photos.event(db, c)
    photos = make_photos.upload(
        db,
        c,
        ev,
        ["groups/kit_with_rose.jpg", "portraits/rose_leslie_1.jpg", "portraits/rose_leslie_2.jpg"],
    )
    while processing.process_next(session=db):
        pass
    roses = [f for p in photos for f in faces_of(db, p) if f.state == FaceState.UNKNOWN]
    assert len(roses) == 3
    sign_in(client, c.staff.email)
    html = client.get(f"/staff/events/{ev.id}/review").text
    # One person, one card, three faces.
    assert html.count('class="card rv-group"') == 1 and "3 faces" in html

    kept_out = roses[2]
    response = choose(client, ev.id, [f.id for f in roses[:2]], "stranger")
    assert response.status_code == 303
    html = client.get(response.headers["location"]).text
    assert "2 faces marked as not a child of our club. They stay blurred." in html
    assert f"/staff/faces/{kept_out.id}/crop" in html
    for face in roses[:2]:
        db.refresh(face)
        assert face.state == FaceState.UNKNOWN and face.reviewed_at is not None
        assert face.child_id is None
    stranger_photo = photos[0]
    assert roses[0].id in blurred(db, stranger_photo, "internal_gallery")

    response = choose(client, ev.id, [kept_out.id], "not_a_face")
    assert response.status_code == 303
    html = client.get(response.headers["location"]).text
    assert "1 face marked as not a face." in html
    assert "Nothing to review" in html and f'href="/staff/events/{ev.id}"' in html
    db.refresh(kept_out)
    assert kept_out.state == FaceState.NOT_A_FACE
    assert kept_out.id not in blurred(db, photos[2], "internal_gallery")


def test_a_child_without_recognition_consent_stays_unknown(client, db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_consent.decide(
        db, c.org, c.biden, c.guardian, {"internal_gallery": True, "face_recognition": False}
    )
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["groups/obama_and_biden.jpg"])
    processing.process_next(session=db)
    biden_face, _ = unknown_faces(db, photo)
    sign_in(client, c.staff.email)

    response = choose(client, ev.id, [biden_face.id], "child", child_id=str(c.biden.id))
    assert response.status_code == 303
    html = client.get(response.headers["location"]).text
    assert (
        "Joe Peeters has no face-recognition consent: the faces stay blurred and are not "
        "linked to them." in html
    )
    client.cookies.set("lang", "nl")
    dutch = client.get(response.headers["location"]).text
    assert "Joe Peeters heeft geen toestemming voor gezichtsherkenning" in dutch
    db.refresh(biden_face)
    assert biden_face.state == FaceState.UNKNOWN and biden_face.child_id is None
    assert biden_face.reviewed_at is not None
    assert db.exec(select(ReferenceFace).where(ReferenceFace.child_id == c.biden.id)).all() == []
    assert biden_face.id in blurred(db, photo, "internal_gallery")


def test_choices_that_cannot_be_applied_show_why(client, db):
    c, ev, photo = analysed_group_photo(db)
    biden_face, child_face = unknown_faces(db, photo)
    sign_in(client, c.staff.email)

    response = choose(client, ev.id, [], "stranger")
    assert response.status_code == 400 and "Select at least one face." in response.text
    response = choose(client, ev.id, [biden_face.id], "child", child_id="")
    assert response.status_code == 400 and "Choose the child this is." in response.text
    response = choose(client, ev.id, [biden_face.id], "maybe")
    assert response.status_code == 400
    assert "Choose what to do with these faces." in response.text

    assert choose(client, ev.id, [child_face.id], "stranger").status_code == 303
    response = choose(client, ev.id, [child_face.id, biden_face.id], "not_a_face")
    assert response.status_code == 409
    assert "Someone has already reviewed some of these faces." in response.text
    db.refresh(biden_face)
    assert biden_face.reviewed_at is None

    response = client.post(
        f"/staff/events/{ev.id}/review",
        data={"choice": "stranger", "face_ids": [str(biden_face.id)]},
    )
    assert response.status_code == 403


def test_only_faces_the_events_queue_offers_can_be_decided(client, db, tmp_path):
    """A hand-made request cannot uncover a face: not an identified one, not one too small to
    recognise, not one of another event (each would be shown uncovered as "not a face")."""
    c, ev, photo = analysed_group_photo(db)
    faces = faces_of(db, photo)
    named = next(face for face in faces if face.state == FaceState.IDENTIFIED)
    waiting, _ = unknown_faces(db, photo)
    # A face too small to recognise: a portrait shrunk to 200 px on a 4000-px canvas.
    canvas = Image.new("RGB", (4000, 3000), "white")
    with Image.open(FACES / "portraits/biden_2.jpg") as portrait:
        small = portrait.convert("RGB")
        small.thumbnail((200, 200))
    canvas.paste(small, (1800, 1400))
    canvas.save(tmp_path / "far_away.jpg", quality=90)
    other = make_photos.event(db, c, name="Other event")
    (far,) = make_photos.upload(db, c, other, [tmp_path / "far_away.jpg"])
    processing.process_next(session=db)
    (tiny,) = faces_of(db, far)
    assert tiny.state == FaceState.TOO_SMALL.value
    sign_in(client, c.staff.email)

    for event_id, face, choice in [
        (ev.id, named, "not_a_face"),  # was a 500 (named faces must keep their child)
        (ev.id, named, "stranger"),
        (other.id, tiny, "not_a_face"),
        (ev.id, tiny, "not_a_face"),
        (other.id, waiting, "not_a_face"),  # a face of another event
    ]:
        response = choose(client, event_id, [face.id], choice)
        assert response.status_code == 409, (face.state, choice)
        assert "not waiting for review here" in response.text
    for face in (named, tiny, waiting):
        before = face.state
        db.refresh(face)
        assert face.state == before and face.reviewed_at is None
    website = blurred(db, far, "website")
    assert tiny.id in website


def test_guardians_and_other_organisations_cannot_see_the_queue_or_crops(client, db):
    c, ev, photo = analysed_group_photo(db)
    biden_face, _ = unknown_faces(db, photo)
    other = factories.organisation(db)
    outsider = factories.user(db, other, Role.STAFF)

    sign_in(client, c.guardian.email)
    assert client.get(f"/staff/events/{ev.id}/review").status_code == 403
    assert client.get(f"/staff/faces/{biden_face.id}/crop").status_code == 403
    token = csrf_from(client.get("/family").text)
    response = client.post(
        f"/staff/events/{ev.id}/review",
        data={"csrf_token": token, "choice": "stranger", "face_ids": [str(biden_face.id)]},
    )
    assert response.status_code == 403

    client.cookies.clear()
    sign_in(client, outsider.email)
    assert client.get(f"/staff/events/{ev.id}/review").status_code == 404
    assert client.get(f"/staff/faces/{biden_face.id}/crop").status_code == 404
    assert client.get("/staff/faces/999999/crop").status_code == 404
    db.refresh(biden_face)
    assert biden_face.reviewed_at is None


def portrait(name: str) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("portrait.jpg", (FACES / name).read_bytes(), "image/jpeg")}


def test_portrait_enrollment_from_the_child_page(client, db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_consent.decide(db, c.org, c.biden, c.guardian, {"face_recognition": False})
    sign_in(client, c.staff.email)

    page = client.get(f"/staff/children/{c.obama.id}")
    assert page.status_code == 200
    assert 'id="face-recognition-heading">Face recognition<' in page.text
    assert 'for="reference-file"' in page.text and 'id="reference-file" name="file"' in page.text
    assert "Delete reference faces" not in page.text
    url = f"/staff/children/{c.obama.id}/reference-photos"
    token = csrf_from(page.text)

    response = client.post(url, data={"csrf_token": token}, files=portrait("portraits/obama_1.jpg"))
    assert response.status_code == 303
    back = f"/staff/children/{c.obama.id}?faces=added"
    assert response.headers["location"] == back
    html = client.get(response.headers["location"]).text
    assert "Reference face saved. Barack Peeters now has 1 reference face." in html
    assert "Delete reference faces" in html
    (reference,) = db.exec(select(ReferenceFace).where(ReferenceFace.child_id == c.obama.id))
    assert reference.source == "portrait" and reference.created_by_id == c.staff.id

    response = client.post(
        url, data={"csrf_token": token}, files=portrait("groups/obama_and_biden.jpg")
    )
    assert response.status_code == 422
    assert "The photo shows 3 faces. Upload a portrait of Barack Peeters alone." in response.text
    response = client.post(
        url,
        data={"csrf_token": token},
        files={"file": ("notes.jpg", b"not a photo at all", "image/jpeg")},
    )
    assert response.status_code == 422 and "not a photo ConsentLens can read" in response.text
    response = client.post(url, files=portrait("portraits/obama_2.jpg"))
    assert response.status_code == 403
    assert len(db.exec(select(ReferenceFace)).all()) == 1

    page = client.get(f"/staff/children/{c.biden.id}")
    assert "no face-recognition consent on record" in page.text
    assert 'name="file"' not in page.text
    response = client.post(
        f"/staff/children/{c.biden.id}/reference-photos",
        data={"csrf_token": token},
        files=portrait("portraits/biden_1.jpg"),
    )
    assert response.status_code == 409
    assert (
        "Joe Peeters has no face-recognition consent on record, so no reference face may be "
        "stored." in response.text
    )
    assert db.exec(select(ReferenceFace).where(ReferenceFace.child_id == c.biden.id)).all() == []


def test_deleting_reference_faces_unlinks_the_child_everywhere(client, db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["portraits/obama_2.jpg"])
    processing.process_next(session=db)
    (face,) = faces_of(db, photo)
    assert face.state == FaceState.IDENTIFIED and face.id not in blurred(db, photo, "website")
    sign_in(client, c.staff.email)
    page = client.get(f"/staff/children/{c.obama.id}")
    url = f"/staff/children/{c.obama.id}/reference-photos/delete"

    response = client.post(url, data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 400 and "Tick the box to confirm" in response.text
    assert len(db.exec(select(ReferenceFace)).all()) == 1

    response = client.post(url, data={"csrf_token": csrf_from(page.text), "confirm": "yes"})
    assert response.status_code == 303
    html = client.get(response.headers["location"]).text
    assert "The reference faces of Barack Peeters were deleted." in html
    assert db.exec(select(ReferenceFace)).all() == []
    db.refresh(face)
    assert face.state == FaceState.UNKNOWN and face.child_id is None
    assert face.id in blurred(db, photo, "website")
    audited = db.exec(
        select(AuditEvent).where(
            AuditEvent.action == "photos.references_deleted",
            AuditEvent.subject_id == str(c.obama.id),
        )
    ).one()
    assert audited.actor_id == c.staff.id and audited.details["reason"] == "Deleted by staff."
