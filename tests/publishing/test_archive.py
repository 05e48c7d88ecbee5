"""The publication ZIP as it unpacks on a club's computer: files named after the event and the
uploaded file, dated when the photo was taken, ordinary permissions, times on the club's clock."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image

from consentlens.core.tables import utcnow
from consentlens.faces import processing
from consentlens.photos.models import Event, Photo
from consentlens.publishing import archive
from consentlens.publishing import service as publishing
from tests.factories import photos as make_photos


def _photo(original_name: str, photo_id: int = 7) -> Photo:
    return Photo(
        id=photo_id,
        organisation_id=1,
        event_id=1,
        sha256="0" * 64,
        original_ref="x",
        original_name=original_name,
        media_type="image/jpeg",
        byte_size=1,
        width=1,
        height=1,
        uploaded_at=datetime(2026, 11, 28, 23, 30, tzinfo=UTC),
    )


TOURNAMENT = Event(id=1, organisation_id=1, name="U10 tornooi", event_date=date(2026, 11, 28))


def test_names_carry_the_event_and_the_original_name_and_are_safe():
    def name(original: str, event: Event | None = TOURNAMENT) -> str:
        return archive.entry_name(event=event, photo=_photo(original))

    assert name("IMG_0042.JPG") == "2026-11-28 U10 tornooi - IMG_0042.jpg"
    # Always a JPEG once rendered, whatever was uploaded.
    assert name("IMG_0042.heic") == "2026-11-28 U10 tornooi - IMG_0042.jpg"
    # No folders, no way out of the folder it is unpacked in, nothing Windows refuses.
    assert name("../../etc/passwd") == "2026-11-28 U10 tornooi - passwd.jpg"
    assert name("C:\\Users\\coach\\a:b*c?.jpg") == "2026-11-28 U10 tornooi - a b c.jpg"
    assert name("..") == "2026-11-28 U10 tornooi - photo 7.jpg"
    assert name("") == "2026-11-28 U10 tornooi - photo 7.jpg"
    assert name("tab\there\x00.jpg") == "2026-11-28 U10 tornooi - tab here.jpg"
    odd = Event(id=2, organisation_id=1, name='Finale "A/B" <Gent>.', event_date=date(2026, 1, 3))
    assert name("Élodie.jpg", odd) == "2026-01-03 Finale A B Gent - Élodie.jpg"
    assert name("IMG_1.jpg", None) == "IMG_1.jpg"
    # Long names fit PublishedPhoto.file_name (120), with room for a number.
    long = Event(id=3, organisation_id=1, name="x" * 300, event_date=date(2026, 1, 3))
    assert len(name("y" * 300 + ".jpg", long)) + len(" (99)") <= 120


def test_names_are_unique_whatever_the_case():
    taken: set[str] = set()
    given = [archive.unique(n, taken=taken) for n in ("a - IMG.jpg", "a - img.jpg", "a - IMG.jpg")]
    assert given == ["a - IMG.jpg", "a - img (2).jpg", "a - IMG (3).jpg"]


def test_a_photo_is_dated_when_taken_else_when_uploaded_on_the_clubs_clock():
    photo = _photo("a.jpg")
    # Uploaded 23:30 UTC on 28 November: already the 29th in Brussels.
    assert archive.photo_date(photo=photo, timezone="Europe/Brussels") == datetime(
        2026, 11, 29, 0, 30
    )
    photo.taken_at = datetime(2026, 11, 28, 14, 5, 9)  # the camera's clock, local already
    assert archive.photo_date(photo=photo, timezone="Europe/Brussels") == photo.taken_at
    # A camera clock never set (1970) cannot be a ZIP date: the upload's is used.
    photo.taken_at = datetime(1970, 1, 1)
    assert archive.photo_date(photo=photo, timezone="America/New_York") == datetime(
        2026, 11, 28, 18, 30
    )


def test_the_zip_read_back_has_the_names_dates_permissions_and_local_times(db, tmp_path):
    c, _ev, (obama, stranger, dogs) = make_photos.analysed_club(db)
    c.org.timezone = "America/New_York"  # not the server's clock (UTC), nor the default
    obama.taken_at = datetime(2026, 11, 21, 10, 15, 30)
    dogs.uploaded_at = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # the 21st, 22:00 in New York
    db.add_all([c.org, obama, dogs])
    db.flush()
    # Another photo of the same file name, in another event of the same name and day.
    other = tmp_path / "dogs.jpg"
    with Image.open(make_photos.FACES / "negative/dogs.jpg") as image:
        image.save(other, "JPEG", quality=80)
    (copy,) = make_photos.upload(db, c, make_photos.event(db, c), [other])
    while processing.process_next(session=db):
        pass

    # Consent was given a moment ago: publish a little later, on a whole minute.
    now = (utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0)
    new_york = now.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None)
    assert new_york.hour != now.hour
    export = publishing.publish(
        session=db,
        organisation=c.org,
        user=c.staff,
        use="social_media",
        photos=[obama, stranger, dogs, copy],
        size="thumb",
        title="Instagram",
        now=now,
    )
    zipped = zipfile.ZipFile(io.BytesIO(export.data))
    infos = {info.filename: info for info in zipped.infolist()}
    assert list(infos) == [
        "2026-11-21 Tournament - obama_2.jpg",
        "2026-11-21 Tournament - dogs.jpg",
        "2026-11-21 Tournament - dogs (2).jpg",
        "manifest.txt",
    ]
    assert infos["2026-11-21 Tournament - obama_2.jpg"].date_time == (2026, 11, 21, 10, 15, 30)
    assert infos["2026-11-21 Tournament - dogs.jpg"].date_time == (2026, 11, 21, 22, 0, 0)
    assert infos["manifest.txt"].date_time == new_york.timetuple()[:6]
    for info in infos.values():
        assert info.create_system == 3 and info.external_attr >> 16 == 0o100644, info
    manifest = zipped.read("manifest.txt").decode()
    assert "for Social media (social_media)" in manifest
    assert f"Made {new_york:%Y-%m-%d %H:%M} (America/New_York); size thumb." in manifest
    assert "Title: Instagram" in manifest
    assert f"2026-11-21 Tournament - kit_harington_1.jpg (photo {stranger.id}): " in manifest
    # What was recorded is what is in the ZIP.
    assert sorted(name for _, name in export.included) == sorted(
        n for n in infos if n != "manifest.txt"
    )
