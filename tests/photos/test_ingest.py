"""Uploads: judged by content, each file on its own, duplicates recognised, nothing half-kept."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from consentlens.core.config import get_settings
from consentlens.photos import service, storage
from consentlens.photos.models import Photo
from tests.factories import photos as make_photos
from tests.factories.photos import FACES

PORTRAIT = FACES / "portraits/obama_1.jpg"


def add(db, c, ev, data: bytes, name: str = "photo.jpg") -> service.UploadResult:
    return service.add_upload(
        session=db,
        organisation=c.org,
        event=ev,
        source=io.BytesIO(data),
        filename=name,
        user=c.staff,
    )


def encoded(fmt: str, **options: object) -> bytes:
    with Image.open(PORTRAIT) as image:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, fmt, **options)
    return buffer.getvalue()


def incoming_files() -> list[Path]:
    return make_photos.uploads_in_flight()


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("HEIF", "image/heic")],
)
def test_each_accepted_format_is_kept_privately(db, fmt, media_type):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    # The name says GIF: only the content counts.
    result = add(db, c, ev, encoded(fmt), name="misleading.gif")
    assert result.error == "" and result.photo is not None
    photo = result.photo
    assert photo.media_type == media_type
    stored = storage.path_of(photo.original_ref)
    assert stored.is_file() and stored.stat().st_mode & 0o077 == 0
    assert storage.media_root() / "originals" in stored.parents
    with Image.open(PORTRAIT) as image:
        assert (photo.width, photo.height) == image.size


def truncated_jpeg() -> bytes:
    data = PORTRAIT.read_bytes()
    return data[: len(data) // 2]


def bomb_png() -> bytes:
    # 20000 × 20000 one-bit pixels: a few kB on disk, 400 megapixels to decode.
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, "PNG")
    return buffer.getvalue()


def gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, "GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: b"", "The file is empty."),
        (lambda: b"just some text, not a photo\n" * 20, "This is not a photo"),
        (lambda: b"%PDF-1.7\n%%EOF\n", "This is not a photo"),
        (gif, "GIF files are not accepted"),
        (truncated_jpeg, "damaged or incomplete"),
        (bomb_png, "too many pixels"),
    ],
    ids=["empty", "text", "pdf", "gif", "truncated", "bomb"],
)
def test_bad_files_get_a_clear_error_and_leave_nothing_behind(db, make, message):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    before = db.exec(select(Photo)).all()
    result = add(db, c, ev, make(), name="upload.jpg")
    assert result.photo is None
    assert message in result.error.format(**(result.error_params or {}))
    assert db.exec(select(Photo)).all() == before
    assert incoming_files() == []


def test_one_bad_file_does_not_affect_the_others(db):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    good = add(db, c, ev, PORTRAIT.read_bytes())
    bad = add(db, c, ev, truncated_jpeg())
    other = add(db, c, ev, encoded("PNG"))
    assert good.photo is not None and other.photo is not None and bad.photo is None


def test_files_over_the_size_limit_are_refused_while_streaming(db, monkeypatch):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    monkeypatch.setattr(get_settings(), "photo_max_bytes", 1024 * 1024)
    result = add(db, c, ev, PORTRAIT.read_bytes() + b"\0" * 1024 * 1024)
    assert result.photo is None
    assert result.error.format(**(result.error_params or {})) == "The file is larger than 1 MB."
    assert incoming_files() == []


def test_the_same_photo_uploaded_twice_is_recognised(db):
    c = make_photos.club(db)
    first_event = make_photos.event(db, c)
    second_event = make_photos.event(db, c, "Second")
    first = add(db, c, first_event, PORTRAIT.read_bytes(), "a.jpg")
    again = add(db, c, second_event, PORTRAIT.read_bytes(), "b.jpg")
    assert again.duplicate and again.photo is not None and first.photo is not None
    assert again.photo.id == first.photo.id and again.photo.event_id == first_event.id
    assert len(db.exec(select(Photo).where(Photo.organisation_id == c.org.id)).all()) == 1


def test_capture_time_is_read_from_exif(db):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2026:11:21 14:05:09"
    result = add(db, c, ev, encoded("JPEG", exif=exif))
    assert result.photo is not None
    assert result.photo.taken_at is not None
    assert result.photo.taken_at.isoformat() == "2026-11-21T14:05:09"
