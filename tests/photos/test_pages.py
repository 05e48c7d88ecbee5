"""The staff photo pages through the real application: events, uploads, progress, images."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlmodel import select

from consentlens.faces import processing
from consentlens.photos.models import Event, Photo, PhotoStatus
from tests import factories
from tests.conftest import csrf_from, login, sign_in
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos

JPEG = make_photos.FACES / "portraits/obama_2.jpg"
ROTATED = make_photos.FACES / "portraits/obama_2_exif_rotated.jpg"
JSON = {"Accept": "application/json"}


def _staff(client, db):
    c = make_photos.club(db)
    sign_in(client, c.staff.email)
    return c


def _token(client, url: str = "/staff/events") -> str:
    return csrf_from(client.get(url).text)


def test_staff_create_an_event_and_land_on_its_page(client, db):
    c = _staff(client, db)
    page = client.get("/staff/events")
    assert page.status_code == 200
    assert 'name="group_ids"' in page.text and c.team.name in page.text

    response = client.post(
        "/staff/events",
        data={
            "csrf_token": csrf_from(page.text),
            "name": "  Spring   tournament ",
            "event_date": "2026-04-12",
            "group_ids": [str(c.team.id)],
        },
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/staff/events/\d+\?done=created", location)
    event = db.get(Event, int(location.split("/")[-1].split("?")[0]))
    assert event is not None and event.name == "Spring tournament"
    assert event.organisation_id == c.org.id

    shown = client.get(location)
    assert shown.status_code == 200
    assert "Spring tournament" in shown.text and "2026-04-12" in shown.text
    assert 'id="upload-files"' in shown.text and "multiple" in shown.text
    assert "The event was created." in shown.text
    listed = client.get("/staff/events").text
    assert f'href="/staff/events/{event.id}"' in listed and c.team.name in listed


def test_a_bad_event_is_refused_with_what_was_typed_kept(client, db):
    c = _staff(client, db)
    token = _token(client)
    blank = client.post(
        "/staff/events",
        data={
            "csrf_token": token,
            "name": "   ",
            "event_date": "2026-04-12",
            "group_ids": [str(c.team.id)],
        },
    )
    assert blank.status_code == 400
    assert "Enter a name for the event." in blank.text
    assert 'value="2026-04-12"' in blank.text
    assert f'value="{c.team.id}" checked' in blank.text
    assert 'id="event-name" name="name"' in blank.text and 'aria-invalid="true"' in blank.text

    no_date = client.post(
        "/staff/events", data={"csrf_token": token, "name": "Camp", "event_date": "12/04"}
    )
    assert no_date.status_code == 400
    assert "Enter the date of the event." in no_date.text and 'value="Camp"' in no_date.text
    assert db.exec(select(Event).where(Event.organisation_id == c.org.id)).all() == []


def test_uploads_are_judged_per_file_and_progress_follows_the_analysis(client, db):
    c = _staff(client, db)
    ev = make_photos.event(db, c)
    token = _token(client, f"/staff/events/{ev.id}")
    url = f"/staff/events/{ev.id}/photos"
    response = client.post(
        url,
        data={"csrf_token": token},
        files=[
            ("files", ("obama.jpg", JPEG.read_bytes(), "image/jpeg")),
            ("files", ("notes.jpg", b"shopping list: balls, cones\n", "image/jpeg")),
        ],
        headers=JSON,
    )
    assert response.status_code == 200
    kept, rejected = response.json()
    assert kept["filename"] == "obama.jpg" and kept["error"] is None
    assert kept["status"] == "pending" and kept["duplicate"] is False
    assert rejected["filename"] == "notes.jpg" and rejected["id"] is None
    assert rejected["error"] and "{" not in rejected["error"]
    # Not a photo at all: sending it again cannot help, so the page offers no Retry.
    assert rejected["final"] is True and kept["final"] is False

    again = client.post(
        url,
        data={"csrf_token": token},
        files=[("files", ("copy.jpg", JPEG.read_bytes(), "image/jpeg"))],
        headers=JSON,
    ).json()
    assert again == [
        {
            "filename": "copy.jpg",
            "id": kept["id"],
            "event_id": ev.id,
            "status": "pending",
            "duplicate": True,
            "final": False,
            "error": None,
        }
    ]
    assert len(db.exec(select(Photo).where(Photo.event_id == ev.id)).all()) == 1

    before = client.get(f"/staff/events/{ev.id}/progress").json()
    assert before["total"] == 1 and before["analysed"] == 0 and before["busy"] is True
    assert before["counts"]["pending"] == 1
    (photo,) = before["photos"]
    assert photo["id"] == kept["id"] and photo["status"] == "pending"
    assert photo["status_label"] == "Queued" and photo["thumb_url"] is None

    assert processing.process_next(session=db) is not None
    after = client.get(f"/staff/events/{ev.id}/progress").json()
    assert after["busy"] is False and after["analysed"] == 1
    (photo,) = after["photos"]
    assert photo["status"] in ("ready", "needs_review") and photo["faces"] == 1
    assert photo["thumb_url"] == f"/staff/photos/{kept['id']}/image?use=internal_gallery&size=thumb"
    # Nobody is enrolled: the face waits for review, and the page links to the queue.
    assert after["awaiting_review"] == 1 and after["review_label"] == "Review 1 face"

    page = client.get(f"/staff/events/{ev.id}").text
    assert f'href="/staff/photos/{kept["id"]}"' in page
    assert f'src="{photo["thumb_url"]}"'.replace("&", "&amp;") in page
    assert 'loading="lazy"' in page and f'href="/staff/events/{ev.id}/review"' in page
    thumb = client.get(photo["thumb_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"


def test_upload_needs_the_csrf_token(client, db):
    c = _staff(client, db)
    ev = make_photos.event(db, c)
    response = client.post(
        f"/staff/events/{ev.id}/photos",
        files=[("files", ("obama.jpg", JPEG.read_bytes(), "image/jpeg"))],
        headers=JSON,
    )
    assert response.status_code == 403
    assert db.exec(select(Photo).where(Photo.event_id == ev.id)).all() == []


def test_images_carry_no_exif_and_the_photo_page_explains_each_use(client, db):
    c = _staff(client, db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, [ROTATED])
    with Image.open(ROTATED) as original:
        assert original.getexif()  # the test is only worth something if there is EXIF to strip
    processing.process_next(session=db)

    for size in ("thumb", "display"):
        response = client.get(f"/staff/photos/{photo.id}/image?use=website&size={size}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["cache-control"] == "private, no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        with Image.open(io.BytesIO(response.content)) as served:
            assert served.format == "JPEG"
            assert not served.getexif() and "exif" not in served.info
            # Served upright: the same proportions as the oriented original.
            ratio = served.width / served.height
            assert abs(ratio - photo.width / photo.height) < 0.02

    page = client.get(f"/staff/photos/{photo.id}?use=website")
    assert page.status_code == 200
    html = page.text
    assert f"/staff/photos/{photo.id}/image?use=website&amp;size=display" in html
    assert f'data-width="{photo.width}" data-height="{photo.height}"' in html
    assert html.count('class="face-box face-identified"') == 1 and "Barack" in html
    assert "Every face has consent." in html and f"{c.obama.full_name}: consented." in html
    assert 'aria-current="page">Club website</a>' in html
    assert "/static/js/photo.js" in html and "style=" not in html


def test_hidden_photos_and_other_clubs_photos_are_not_found(client, db):
    c = _staff(client, db)
    ev = make_photos.event(db, c)
    stranger, waiting = make_photos.upload(
        db, c, ev, ["portraits/kit_harington_1.jpeg", "portraits/biden_2.jpg"]
    )
    # Analyse only the first: an unknown face, so press and social media hide the photo.
    assert processing.process_next(session=db).id == stranger.id
    image = f"/staff/photos/{stranger.id}/image"
    assert client.get(f"{image}?use=internal_gallery&size=thumb").status_code == 200
    assert client.get(f"{image}?use=social_media&size=thumb").status_code == 404
    assert client.get(f"/staff/photos/{waiting.id}/image?use=internal_gallery").status_code == 404
    assert client.get(f"{image}?use=billboard&size=thumb").status_code == 422
    assert client.get(f"{image}?use=website&size=poster").status_code == 422

    hidden_page = client.get(f"/staff/photos/{stranger.id}?use=social_media").text
    assert "Hidden in this use" in hidden_page and "use=social_media&amp;size" not in hidden_page

    other = make_photos.club(db)
    other_event = make_photos.event(db, other)
    (foreign,) = make_photos.upload(db, other, other_event, ["portraits/rose_leslie_1.jpg"])
    for url in (
        f"/staff/photos/{foreign.id}/image?use=internal_gallery&size=thumb",
        f"/staff/photos/{foreign.id}",
        f"/staff/events/{other_event.id}",
        f"/staff/events/{other_event.id}/progress",
        "/staff/photos/999999999/image?use=internal_gallery",
    ):
        assert client.get(url).status_code == 404, url
    token = _token(client)
    retry = client.post(f"/staff/photos/{foreign.id}/retry", data={"csrf_token": token})
    assert retry.status_code == 404


def test_a_failed_photo_can_be_queued_again(client, db):
    c = _staff(client, db)
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, [JPEG])
    photo.status = PhotoStatus.FAILED.value
    photo.error = "UnreadablePhoto: cannot read image: image file is truncated"
    db.add(photo)
    db.commit()
    # A file that cannot be read fails the same way every time: no button to try again.
    page = client.get(f"/staff/events/{ev.id}").text
    assert "image file is truncated" in page
    retry_form = f'action="/staff/photos/{photo.id}/retry" hidden>'
    assert retry_form in page
    assert client.get(f"/staff/events/{ev.id}/progress").json()["photos"][0]["retryable"] is False
    assert "Analyse again" not in client.get(f"/staff/photos/{photo.id}").text

    photo.error = "RuntimeError: the face model stopped"
    db.add(photo)
    db.commit()
    page = client.get(f"/staff/events/{ev.id}").text
    assert f'action="/staff/photos/{photo.id}/retry"' in page and retry_form not in page
    progress = client.get(f"/staff/events/{ev.id}/progress").json()
    assert progress["counts"]["failed"] == 1 and progress["busy"] is False
    assert progress["photos"][0]["error"] == "RuntimeError: the face model stopped"
    assert progress["photos"][0]["retryable"] is True
    assert "Analyse again" in client.get(f"/staff/photos/{photo.id}").text

    response = client.post(f"/staff/photos/{photo.id}/retry", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert response.headers["location"] == f"/staff/events/{ev.id}?done=retried#photo-{photo.id}"
    db.refresh(photo)
    assert photo.status == PhotoStatus.PENDING.value and photo.error == ""


def test_guardians_cannot_open_the_photo_pages(client, db):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    (photo,) = make_photos.upload(db, c, ev, [JPEG])
    login(client, c.guardian.email, factories.PASSWORD)
    for url in (
        "/staff/events",
        f"/staff/events/{ev.id}",
        f"/staff/events/{ev.id}/progress",
        f"/staff/photos/{photo.id}",
        f"/staff/photos/{photo.id}/image?use=internal_gallery&size=thumb",
    ):
        assert client.get(url).status_code == 403, url
    token = csrf_from(client.get("/family").text)
    upload = client.post(
        f"/staff/events/{ev.id}/photos",
        data={"csrf_token": token},
        files=[("files", ("x.jpg", ROTATED.read_bytes(), "image/jpeg"))],
        headers=JSON,
    )
    assert upload.status_code == 403
    created = client.post(
        "/staff/events", data={"csrf_token": token, "name": "Sneaky", "event_date": "2026-01-01"}
    )
    assert created.status_code == 403


def test_a_plain_form_post_without_script_returns_to_the_event_page(client, db):
    c = _staff(client, db)
    ev = make_photos.event(db, c)
    response = client.post(
        f"/staff/events/{ev.id}/photos",
        data={"csrf_token": _token(client, f"/staff/events/{ev.id}")},
        files=[("files", ("obama.jpg", JPEG.read_bytes(), "image/jpeg"))],
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/staff/events/{ev.id}?done=uploaded"
    page = client.get(response.headers["location"]).text
    assert "The files were received." in page and "obama.jpg" in page
