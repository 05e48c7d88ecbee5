"""The photo API: events, uploads with per-file outcomes, photo detail, images per verdict,
enrollment; bearer tokens only, one organisation's data only."""

from __future__ import annotations

import io

from PIL import Image

from consentlens.auth.models import Role
from consentlens.faces import processing
from tests import factories
from tests.conftest import bearer
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos
from tests.factories.photos import FACES


def files(*names: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, (FACES / name).read_bytes(), "image/jpeg")) for name in names]


def setup_club(db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_consent.decide(
        db, c.org, c.biden, c.guardian, {"face_recognition": True, "website": False}
    )
    return c


def test_event_upload_detail_and_images(client, db):
    c = setup_club(db)
    auth = bearer(client, c.staff.email, factories.PASSWORD)
    for kid, portrait in ((c.obama, "portraits/obama_1.jpg"), (c.biden, "portraits/biden_1.jpg")):
        response = client.post(
            f"/api/v1/children/{kid.id}/reference-photos",
            files={"file": ("p.jpg", (FACES / portrait).read_bytes(), "image/jpeg")},
            headers=auth,
        )
        assert response.status_code == 201, response.text
        assert response.json()["references"] == 1

    response = client.post(
        "/api/v1/events",
        json={"name": "Cup final", "date": "2026-11-21", "group_ids": [c.team.id]},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    event_id = response.json()["id"]

    bad = ("files", ("notes.jpg", b"not a photo at all", "image/jpeg"))
    upload = [*files("groups/obama_and_biden.jpg"), bad]
    response = client.post(f"/api/v1/events/{event_id}/photos", files=upload, headers=auth)
    assert response.status_code == 200, response.text
    kept, rejected = response.json()
    assert kept["status"] == "pending" and kept["id"] and not kept["duplicate"]
    assert rejected["id"] is None and "not a photo" in rejected["error"]

    pending = client.get(f"/api/v1/photos/{kept['id']}", headers=auth).json()
    assert pending["status"] == "pending" and pending["faces"] == []
    hidden = client.get(
        f"/api/v1/photos/{kept['id']}/image", params={"use": "website"}, headers=auth
    )
    assert hidden.status_code == 403

    processing.process_next(session=db)
    photo = client.get(f"/api/v1/photos/{kept['id']}", headers=auth).json()
    named = {f["child_id"]: f for f in photo["faces"] if f["state"] == "identified"}
    assert set(named) == {c.obama.id, c.biden.id}
    assert all(len(f["box"]) == 4 for f in photo["faces"])
    assert photo["verdicts"]["website"]["action"] == "blur"
    assert "blurred" in photo["verdicts"]["website"]["reason"]
    assert set(photo["verdicts"]) == {
        "internal_gallery",
        "website",
        "print",
        "social_media",
        "press",
    }

    for use, verdict in photo["verdicts"].items():
        for size in ("thumb", "display"):
            response = client.get(
                f"/api/v1/photos/{kept['id']}/image",
                params={"use": use, "size": size},
                headers=auth,
            )
            if verdict["action"] == "hide":
                assert response.status_code == 403
                continue
            assert response.status_code == 200
            assert response.headers["content-type"] == "image/jpeg"
            assert "private" in response.headers["cache-control"]
            image = Image.open(io.BytesIO(response.content))
            assert image.format == "JPEG"
            assert not image.getexif() and "exif" not in image.info
            assert max(image.size) <= (400 if size == "thumb" else 1600)


def test_the_api_needs_a_bearer_token_and_stays_in_its_organisation(client, db):
    c = setup_club(db)
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["portraits/obama_2.jpg"])
    processing.process_next(session=db)
    url = f"/api/v1/photos/{photo.id}/image?use=internal_gallery"
    assert client.get(url).status_code == 401
    assert client.get(f"/api/v1/photos/{photo.id}").status_code == 401

    other = factories.organisation(db)
    outsider = factories.user(db, other, Role.STAFF)
    auth = bearer(client, outsider.email, factories.PASSWORD)
    assert client.get(url, headers=auth).status_code == 404
    assert client.get(f"/api/v1/photos/{photo.id}", headers=auth).status_code == 404
    assert client.get(f"/api/v1/events/{ev.id}", headers=auth).status_code == 404

    guardian = bearer(client, c.guardian.email, factories.PASSWORD)
    assert client.get(url, headers=guardian).status_code == 403


def test_reference_photo_without_face_recognition_consent_is_409(client, db):
    c = make_photos.club(db)
    make_consent.decide(db, c.org, c.obama, c.guardian, {"face_recognition": False})
    auth = bearer(client, c.staff.email, factories.PASSWORD)
    response = client.post(
        f"/api/v1/children/{c.obama.id}/reference-photos",
        files={"file": ("p.jpg", (FACES / "portraits/obama_1.jpg").read_bytes(), "image/jpeg")},
        headers=auth,
    )
    assert response.status_code == 409
    assert "no face-recognition consent" in response.json()["detail"]


def test_a_group_photo_is_no_reference(client, db):
    c = setup_club(db)
    auth = bearer(client, c.staff.email, factories.PASSWORD)
    response = client.post(
        f"/api/v1/children/{c.obama.id}/reference-photos",
        files={"file": ("g.jpg", (FACES / "groups/kit_with_rose.jpg").read_bytes(), "image/jpeg")},
        headers=auth,
    )
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "file"] and "faces" in problem["msg"]


def test_unknown_use_is_422(client, db):
    c = setup_club(db)
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, ["negative/dogs.jpg"])
    processing.process_next(session=db)
    auth = bearer(client, c.staff.email, factories.PASSWORD)
    response = client.get(
        f"/api/v1/photos/{photo.id}/image", params={"use": "face_recognition"}, headers=auth
    )
    assert response.status_code == 422


def test_openapi_documents_the_photo_routes(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/events",
        "/api/v1/events/{event_id}/photos",
        "/api/v1/photos/{photo_id}",
        "/api/v1/photos/{photo_id}/image",
        "/api/v1/children/{child_id}/reference-photos",
    ):
        assert path in paths
