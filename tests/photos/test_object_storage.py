"""The application on S3 settings, against a real S3 server (SeaweedFS): photos go into the
bucket at upload, are analysed from it, served from renderings cached in it, and leave it at
retention; while the bucket cannot be reached, uploads and images get a plain 503 and no photo
is half-kept."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from consentlens.consent import evidence
from consentlens.core.config import get_settings
from consentlens.core.storage import StorageUnavailable, get_store
from consentlens.core.storage.s3 import S3Store
from consentlens.core.tables import utcnow
from consentlens.faces import processing
from consentlens.forms import logo
from consentlens.photos import storage
from consentlens.photos.models import Photo, PhotoStatus
from consentlens.publishing import retention
from tests import factories
from tests.conftest import bearer, csrf_from, sign_in
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos
from tests.factories.photos import FACES
from tests.seaweed import S3Server, closed_port

PREFIX = "installation/"
PHOTO = "groups/obama_and_biden.jpg"


class Bucket:
    def __init__(self, server: S3Server, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.server, self.name, self.monkeypatch = server, name, monkeypatch

    def objects(self, prefix: str = "") -> set[str]:
        return self.server.keys(self.name, PREFIX + prefix)

    def read(self, key: str) -> bytes:
        return self.server.client().get_object(Bucket=self.name, Key=key)["Body"].read()

    def go_down(self) -> None:
        """The store's address now refuses connections, as a stopped server's does."""
        self.monkeypatch.setattr(
            get_settings(), "s3_endpoint_url", f"http://127.0.0.1:{closed_port()}"
        )

    def come_back(self) -> None:
        self.monkeypatch.setattr(get_settings(), "s3_endpoint_url", self.server.endpoint)


@pytest.fixture
def bucket(s3_server, s3_bucket, monkeypatch, tmp_path) -> Bucket:
    """This test's app and services keep their files in a bucket of their own, and their files
    in flight in a media folder of their own."""
    settings = get_settings()
    for name, value in {
        "media_dir": tmp_path / "media",
        "storage": "s3",
        "s3_bucket": s3_bucket,
        "s3_endpoint_url": s3_server.endpoint,
        "s3_access_key": s3_server.access_key,
        "s3_secret_key": s3_server.secret_key,
        "s3_prefix": PREFIX,
        "s3_server_side_encryption": True,
    }.items():
        monkeypatch.setattr(settings, name, value)
    assert isinstance(get_store(), S3Store)
    return Bucket(s3_server, s3_bucket, monkeypatch)


def upload_files(name: str = PHOTO) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", ("photo.jpg", (FACES / name).read_bytes(), "image/jpeg"))]


def kept_locally() -> list[Path]:
    """Originals in this test's local media folder."""
    return [path for path in (storage.media_root() / "originals").rglob("*") if path.is_file()]


def incoming() -> list[Path]:
    """Files in flight left in the media folder (an upload or a download of this test's)."""
    return make_photos.uploads_in_flight()


def test_a_photo_lives_in_the_bucket_from_upload_to_retention(client, db, bucket):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    ev = make_photos.event(db, c)
    auth = bearer(client, c.staff.email, factories.PASSWORD)

    response = client.post(f"/api/v1/events/{ev.id}/photos", files=upload_files(), headers=auth)
    assert response.status_code == 200, response.text
    (kept,) = response.json()
    photo = db.get(Photo, kept["id"])
    assert photo is not None
    original_key = PREFIX + photo.original_ref
    assert bucket.objects() == {original_key}
    assert bucket.read(original_key) == (FACES / PHOTO).read_bytes()
    head = bucket.server.client().head_object(Bucket=bucket.name, Key=original_key)
    assert head["ServerSideEncryption"] == "AES256"
    assert not kept_locally() and incoming() == []

    # The analysis reads a local copy of the original, gone once it is done.
    analysed = processing.process_next(session=db)
    assert analysed is not None and analysed.error == ""
    assert analysed.status in (PhotoStatus.READY.value, PhotoStatus.NEEDS_REVIEW.value)
    assert incoming() == []
    rendered = bucket.objects(f"derivatives/{photo.id}/")
    assert rendered, "the analysis stores the renderings in the bucket"

    detail = client.get(f"/api/v1/photos/{photo.id}", headers=auth).json()
    use = next(u for u, v in detail["verdicts"].items() if v["action"] != "hide")
    image = client.get(
        f"/api/v1/photos/{photo.id}/image", params={"use": use, "size": "thumb"}, headers=auth
    )
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.content)).format == "JPEG"
    assert image.content in {bucket.read(key) for key in rendered}
    # A rendering not in the bucket (removed, or a size the analysis did not make) is made on
    # request from the original in the bucket, and cached there.
    get_store().delete_prefix(f"derivatives/{photo.id}")
    again = client.get(
        f"/api/v1/photos/{photo.id}/image", params={"use": use, "size": "thumb"}, headers=auth
    )
    assert again.status_code == 200
    size = Image.open(io.BytesIO(image.content)).size
    assert Image.open(io.BytesIO(again.content)).size == size
    (cached,) = bucket.objects(f"derivatives/{photo.id}/")
    assert bucket.read(cached) == again.content

    assert retention.delete_event(session=db, organisation=c.org, event=ev, reason="test") == 1
    assert original_key in bucket.objects(), "files go only once the deletion commits"
    db.commit()
    assert bucket.objects() == set()


def test_an_upload_while_the_store_is_down_is_refused_and_leaves_nothing(client, db, bucket):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    auth = bearer(client, c.staff.email, factories.PASSWORD)
    sign_in(client, c.staff.email)
    token = csrf_from(client.get(f"/staff/events/{ev.id}").text)
    db.commit()
    bucket.go_down()

    api = client.post(f"/api/v1/events/{ev.id}/photos", files=upload_files(), headers=auth)
    assert api.status_code == 503
    assert "cannot be reached right now" in api.json()["detail"]
    assert api.headers["retry-after"] == "60"
    # The upload page's script asks for JSON, and shows the sentence in the page's language.
    page = client.post(
        f"/staff/events/{ev.id}/photos",
        data={"csrf_token": token},
        files=upload_files(),
        headers={"Accept": "application/json"},
    )
    assert page.status_code == 503
    assert "cannot be reached right now" in page.json()["detail"]
    plain = client.post(
        f"/staff/events/{ev.id}/photos",
        data={"csrf_token": token},
        files=upload_files(),
        headers={"Accept": "text/html"},
    )
    assert plain.status_code == 503 and "text/html" in plain.headers["content-type"]
    assert "Nothing was saved or changed" in plain.text and "Traceback" not in plain.text

    assert db.exec(select(Photo).where(Photo.event_id == ev.id)).all() == []
    assert not kept_locally() and incoming() == []
    bucket.come_back()
    assert bucket.objects() == set()
    # Once the store is back, the same upload is kept.
    again = client.post(f"/api/v1/events/{ev.id}/photos", files=upload_files(), headers=auth)
    assert again.status_code == 200 and again.json()[0]["id"]


def test_images_while_the_store_is_down_are_a_plain_503(client, db, bucket):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, [PHOTO])
    processing.process_next(session=db)
    db.commit()
    auth = bearer(client, c.staff.email, factories.PASSWORD)
    sign_in(client, c.staff.email)
    bucket.go_down()

    api = client.get(
        f"/api/v1/photos/{photo.id}/image", params={"use": "internal_gallery"}, headers=auth
    )
    assert api.status_code == 503 and "cannot be reached" in api.json()["detail"]
    page = client.get(f"/staff/photos/{photo.id}/image", params={"use": "internal_gallery"})
    assert page.status_code == 503
    assert "cannot be reached" in page.text and "Traceback" not in page.text
    health = client.get("/healthz")
    assert health.status_code == 503
    report = health.json()
    assert report["status"] == "unavailable" and report["database"] == "ok"
    assert report["storage"] == "unavailable (StorageUnavailable)"
    assert "127.0.0.1" not in health.text, "the public endpoint names no address"
    bucket.come_back()
    assert client.get("/healthz").status_code == 200
    assert db.get(Photo, photo.id) is not None, "an outage loses no photo"


def test_a_rolled_back_upload_leaves_no_object_and_orphans_are_swept(db, bucket):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    db.commit()
    (photo,) = make_photos.upload(db, c, ev, ["portraits/obama_1.jpg"])
    assert bucket.objects() == {PREFIX + photo.original_ref}
    db.rollback()
    assert bucket.objects() == set()

    (kept,) = make_photos.upload(db, c, ev, ["portraits/obama_2.jpg"])
    db.commit()
    # A crash between putting an original in the bucket and committing its row.
    orphan = storage.original_ref(organisation_id=c.org.id, sha256="ab" * 32, extension="jpg")
    get_store().put_bytes(orphan, data=b"a child's photo")
    assert storage.sweep(session=db, now=utcnow()) == 0, "young files may be uploads in progress"
    assert storage.sweep(session=db, now=utcnow() + timedelta(hours=1)) == 1
    assert bucket.objects() == {PREFIX + kept.original_ref}


def png(size: tuple[int, int] = (60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "#1d4e89").save(out, format="PNG")
    return out.getvalue()


def test_scans_and_logos_are_kept_in_the_bucket(db, bucket):
    org, other = factories.organisation(db), factories.organisation(db)
    db.commit()
    scan = png()
    reference = evidence.store_scan(session=db, data=scan, organisation_id=org.id)
    assert bucket.objects() == {PREFIX + reference}
    stored = evidence.read_scan(reference=reference, organisation_id=org.id)
    assert stored is not None and stored.data == scan and stored.extension == "png"
    # The organisation is checked on the reference itself, whatever is in the bucket.
    assert evidence.read_scan(reference=reference, organisation_id=other.id) is None
    db.rollback()  # the decisions were not recorded: the scan goes with them
    assert bucket.objects() == set()

    ref = logo.store(png=png((80, 40)), organisation_id=org.id)
    assert logo.read(ref) == png((80, 40))
    assert (logo.data_uri(ref) or "").startswith("data:image/png;base64,")
    assert logo.read("evidence/1/x.png") is None and logo.read("logos/../evidence/x.png") is None
    logo.discard(ref)
    assert bucket.objects() == set() and logo.read(ref) is None


def test_the_render_job_fails_while_stale_renderings_cannot_be_deleted(db, bucket):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, [PHOTO])
    processing.process_next(session=db)
    db.commit()
    stale = f"derivatives/{photo.id}/display-0000stale0000.jpg"
    get_store().put_bytes(stale, data=b"a rendering of an earlier verdict")
    bucket.go_down()
    # Raised, not logged: the job is retried until the stale rendering is gone.
    with pytest.raises(StorageUnavailable):
        processing.render(session=db, photo_id=photo.id)
    bucket.come_back()
    assert PREFIX + stale in bucket.objects()
    processing.render(session=db, photo_id=photo.id)
    assert PREFIX + stale not in bucket.objects()
    assert bucket.objects(f"derivatives/{photo.id}/")  # the current ones are there


def test_photos_that_failed_while_the_store_was_down_are_queued_again_once_it_is_back(db, bucket):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, [PHOTO])
    db.commit()
    bucket.go_down()
    for _ in range(processing.MAX_ATTEMPTS):
        processing.process_next(session=db)
    db.refresh(photo)
    assert photo.status == PhotoStatus.FAILED.value
    assert photo.error.startswith("StorageUnavailable:")
    # Still down: nothing changes.
    assert processing.retry_after_outage(session=db, now=utcnow()) == 0
    bucket.come_back()
    assert processing.retry_after_outage(session=db, now=utcnow()) == 1
    db.refresh(photo)
    assert (photo.status, photo.attempts) == (PhotoStatus.PENDING.value, 0)
    processing.process_next(session=db)
    db.refresh(photo)
    assert photo.status in {PhotoStatus.READY.value, PhotoStatus.NEEDS_REVIEW.value}
