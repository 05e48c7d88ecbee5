"""Hostile and odd files through every route that takes an image, in the real application.

Each file is refused with a message (a 4xx, or a per-file error in an upload's answer) or, when
it is a legitimate image in an unusual shape (CMYK, 16-bit, MPO, trailing data), accepted.
Never a 5xx, nothing left on disk by a refusal, and the server healthy afterwards.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from consentlens.auth.models import Role
from consentlens.core.config import get_settings
from consentlens.faces import processing
from consentlens.photos import storage
from consentlens.photos.models import Photo, PhotoStatus
from tests import factories
from tests.conftest import bearer, csrf_from, sign_in
from tests.core import hostile
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos

CORPUS = hostile.corpus()
PHOTO_REFUSALS = (
    "The file is empty.",
    "This is not a photo ConsentLens can read.",
    "too many pixels",
    "damaged or incomplete",
    "oversized metadata",
    "Animated images are not accepted.",
    "files are not accepted.",
)


def files_on_disk() -> set[Path]:
    root = get_settings().resolved_media_dir
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.fixture
def club(client, db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    admin = factories.user(db, c.org, Role.ADMIN, locale="en")
    sign_in(client, admin.email)
    return c, admin


def check_refused(sample, response, messages, before) -> None:
    assert response.status_code < 500, (sample.name, response.status_code, response.text[:300])
    assert any(message in response.text for message in messages), (sample.name, response.text)
    assert files_on_disk() == before, sample.name
    assert make_photos.uploads_in_flight() == [], sample.name


def check_healthy(client) -> None:
    assert client.get("/healthz").status_code == 200


def test_photo_uploads_on_the_event_page(client, db, club):
    c, _ = club
    ev = make_photos.event(db, c)
    url = f"/staff/events/{ev.id}/photos"
    token = csrf_from(client.get(f"/staff/events/{ev.id}").text)
    for sample in CORPUS:
        before = files_on_disk()
        response = client.post(
            url,
            data={"csrf_token": token},
            files={"files": (f"{sample.name}.jpg", sample.data, "image/jpeg")},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200, (sample.name, response.text[:300])
        (outcome,) = response.json()
        if "photo" in sample.accepted_by:
            assert outcome["id"] and outcome["error"] is None, (sample.name, outcome)
        else:
            assert outcome["id"] is None, sample.name
            check_refused(sample, response, PHOTO_REFUSALS, before)
    check_healthy(client)


def test_photo_uploads_through_the_api(client, db, club):
    c, admin = club
    ev = make_photos.event(db, c)
    auth = bearer(client, admin.email, factories.PASSWORD)
    before = files_on_disk()
    # All at once: one request, each file judged on its own.
    upload = [("files", (f"{s.name}.jpg", s.data, "image/jpeg")) for s in CORPUS]
    response = client.post(f"/api/v1/events/{ev.id}/photos", files=upload, headers=auth)
    assert response.status_code == 200, response.text[:300]
    outcomes = response.json()
    kept = set()
    for sample, outcome in zip(CORPUS, outcomes, strict=True):
        if "photo" in sample.accepted_by:
            assert outcome["id"] and not outcome["error"], (sample.name, outcome)
            kept.add(outcome["id"])
        else:
            assert outcome["id"] is None, sample.name
            assert any(m in outcome["error"] for m in PHOTO_REFUSALS), (sample.name, outcome)
    photos = db.exec(select(Photo).where(Photo.event_id == ev.id)).all()
    assert {p.id for p in photos} == kept
    # Only the originals of the kept photos were added (an earlier test may have left the same).
    originals = {storage.path_of(p.original_ref) for p in photos}
    assert files_on_disk() - before <= originals and all(path.is_file() for path in originals)
    assert make_photos.uploads_in_flight() == []
    check_healthy(client)


def test_accepted_odd_photos_are_analysed_and_served_without_metadata(client, db, club):
    c, admin = club
    ev = make_photos.event(db, c)
    auth = bearer(client, admin.email, factories.PASSWORD)
    legit = [s for s in CORPUS if "photo" in s.accepted_by]
    upload = [("files", (f"{s.name}.jpg", s.data, "image/jpeg")) for s in legit]
    outcomes = client.post(f"/api/v1/events/{ev.id}/photos", files=upload, headers=auth).json()
    while processing.process_next(session=db) is not None:
        pass
    for sample, outcome in zip(legit, outcomes, strict=True):
        photo = db.get(Photo, outcome["id"])
        db.refresh(photo)
        assert photo.status == PhotoStatus.READY.value, (sample.name, photo.error)
        response = client.get(
            f"/api/v1/photos/{photo.id}/image",
            params={"use": "internal_gallery", "size": "display"},
            headers=auth,
        )
        assert response.status_code == 200, (sample.name, response.text[:200])
        assert hostile.PAYLOAD not in response.content and b"PK\x03\x04" not in response.content
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.format == "JPEG" and image.size == (64, 48), sample.name
            assert not image.getexif() and "icc_profile" not in image.info, sample.name
            assert b"GPS" not in response.content
    check_healthy(client)


PORTRAIT_REFUSALS = (*PHOTO_REFUSALS, "No face was found.")


def test_reference_portraits_on_the_child_page(client, db, club):
    c, _ = club
    url = f"/staff/children/{c.obama.id}/reference-photos"
    token = csrf_from(client.get(f"/staff/children/{c.obama.id}").text)
    for sample in CORPUS:
        before = files_on_disk()
        response = client.post(
            url,
            data={"csrf_token": token},
            files={"file": ("portrait.jpg", sample.data, "image/jpeg")},
        )
        assert response.status_code == 422, (sample.name, response.status_code)
        check_refused(sample, response, PORTRAIT_REFUSALS, before)
        if sample.accepted_by:
            # Read as an image, refused only for what it shows.
            assert "No face was found." in response.text, sample.name
    check_healthy(client)


def test_reference_portraits_through_the_api(client, db, club):
    c, admin = club
    auth = bearer(client, admin.email, factories.PASSWORD)
    url = f"/api/v1/children/{c.obama.id}/reference-photos"
    for sample in CORPUS:
        before = files_on_disk()
        response = client.post(
            url, files={"file": ("portrait.jpg", sample.data, "image/jpeg")}, headers=auth
        )
        assert response.status_code == 422, (sample.name, response.status_code, response.text)
        check_refused(sample, response, PORTRAIT_REFUSALS, before)
        # The API's documented 422: a list of problems, each with its message.
        detail = response.json()["detail"]
        assert isinstance(detail, list) and detail and isinstance(detail[0]["msg"], str)
        if sample.accepted_by:
            assert detail[0]["msg"].startswith("No face was found."), sample.name
    check_healthy(client)


SCAN_REFUSALS = (
    "Add the scan or photo of the signed form.",
    "The scan must be a PDF, JPEG or PNG file.",
    "The image is damaged or incomplete.",
    "The scan has too many pixels.",
)


def test_paper_form_scans(client, db, club):
    c, _ = club
    url = f"/staff/children/{c.biden.id}/paper"
    for sample in CORPUS:
        token = csrf_from(client.get(url).text)
        before = files_on_disk()
        response = client.post(
            url,
            data={
                "csrf_token": token,
                "signer": str(c.guardian.id),
                "signed_on": "2026-09-01",
                "use-website": "yes",
            },
            files={"scan": ("scan.png", sample.data, "image/png")},
        )
        if "scan" in sample.accepted_by:
            assert response.status_code == 303, (sample.name, response.text[:300])
            (added,) = files_on_disk() - before
            assert added.read_bytes() == sample.data
        else:
            assert response.status_code == 400, (sample.name, response.status_code)
            check_refused(sample, response, SCAN_REFUSALS, before)
    check_healthy(client)


LOGO_REFUSALS = (
    "The logo must be a PNG or JPEG image.",
    "The logo is damaged or incomplete.",
    "The logo has too many pixels",
)


def test_logos(client, db, club):
    url = "/staff/settings/forms"
    for sample in CORPUS:
        if not sample.data:
            continue  # an empty file field means "keep the logo"
        token = csrf_from(client.get(url).text)
        before = files_on_disk()
        response = client.post(
            url,
            data={"csrf_token": token, "page_size": "A4"},
            files={"logo": ("logo.png", sample.data, "image/png")},
        )
        if "logo" in sample.accepted_by:
            assert response.status_code == 303, (sample.name, response.text[:300])
            # The new logo replaces the previous one: one file in, at most one out.
            assert len(files_on_disk() - before) == 1, sample.name
        else:
            assert response.status_code == 400, (sample.name, response.status_code)
            check_refused(sample, response, LOGO_REFUSALS, before)
    check_healthy(client)


def raw_multipart(filename: bytes, data: bytes, token: str) -> tuple[bytes, dict[str, str]]:
    """A form built by hand, so the file name arrives exactly as given (no client escaping)."""
    boundary = b"consentlens-test-boundary"
    body = (
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + token.encode()
        + b"\r\n--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="files"; filename="'
        + filename
        + b'"\r\n'
        + b"Content-Type: image/jpeg\r\n\r\n"
        + data
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary.decode()}",
        "Accept": "application/json",
    }
    return body, headers


@pytest.mark.parametrize("filename", hostile.ODD_FILENAMES, ids=range(len(hostile.ODD_FILENAMES)))
def test_odd_file_names_are_kept_as_harmless_labels(client, db, club, filename):
    c, _ = club
    ev = make_photos.event(db, c)
    token = csrf_from(client.get(f"/staff/events/{ev.id}").text)
    body, headers = raw_multipart(filename.encode(), hostile.encoded("JPEG"), token)
    response = client.post(f"/staff/events/{ev.id}/photos", content=body, headers=headers)
    assert response.status_code == 200, response.text[:300]
    (outcome,) = response.json()
    photo = db.get(Photo, outcome["id"])
    name = photo.original_name
    assert "/" not in name and "\\" not in name and len(name) <= 255
    assert all(ch.isprintable() for ch in name) and name == outcome["filename"]
    # Where the file went depends on its content only.
    stored = storage.path_of(photo.original_ref)
    assert stored.is_file() and stored.parent.parent.parent.name == "originals"
    check_healthy(client)
