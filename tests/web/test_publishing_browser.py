"""Staff publish an event's photos from a desktop browser and get the ZIP: for the website, and
for social media after switching the dropdown on a page loaded for the website."""

from __future__ import annotations

import io
import re
import sqlite3
import time
import uuid
import zipfile

import pytest
from PIL import Image
from playwright.sync_api import APIRequestContext, expect

from tests.factories.photos import FACES
from tests.web.pages import DESKTOP, new_page, sign_in

pytestmark = pytest.mark.browser
STAFF = ("staff@demo.consentlens.test", "demo-staff-2026")
PHOTOS = ("groups/obama_and_biden.jpg", "portraits/kit_harington_1.jpeg", "negative/dogs.jpg")


def _fresh_jpeg(path: str) -> bytes:
    """The photo re-encoded with a unique comment: other tests on the same live server may upload
    the same file, and a photo already in another event is not added twice."""
    buffer = io.BytesIO()
    with Image.open(FACES / path) as image:
        image.convert("RGB").save(buffer, "JPEG", quality=92, comment=uuid.uuid4().hex.encode())
    return buffer.getvalue()


def _seed_event(api: APIRequestContext, base: str, var) -> tuple[int, str]:
    """An event with analysed photos, made through the JSON API as the club's staff would."""
    token = api.post(
        f"{base}/api/v1/auth/token", form={"username": STAFF[0], "password": STAFF[1]}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    name = f"Publishing day {uuid.uuid4().hex[:6]}"
    created = api.post(
        f"{base}/api/v1/events",
        headers=auth,
        data={"name": name, "date": "2026-11-21", "group_ids": []},
    )
    assert created.ok, created.text()
    event_id = created.json()["id"]
    for path in PHOTOS:
        upload = api.post(
            f"{base}/api/v1/events/{event_id}/photos",
            headers=auth,
            multipart={
                "files": {
                    "name": path.rsplit("/", 1)[-1],
                    "mimeType": "image/jpeg",
                    "buffer": _fresh_jpeg(path),
                }
            },
        )
        (outcome,) = upload.json()
        assert outcome["id"] and not outcome["duplicate"], outcome
    # The live server's embedded worker analyses them (it loads the face models first).
    deadline = time.monotonic() + 120
    while True:
        counts = api.get(f"{base}/api/v1/events/{event_id}", headers=auth).json()["photo_counts"]
        if counts.get("ready", 0) + counts.get("needs_review", 0) == len(PHOTOS):
            return event_id, name
        assert not counts.get("failed"), counts
        assert time.monotonic() < deadline, f"photos not analysed in time: {counts}"
        time.sleep(0.5)


def test_staff_download_an_event_for_the_website(browser, live_server, artifacts):
    base = live_server.url
    page = new_page(browser, DESKTOP)
    event_id, event_name = _seed_event(page.context.request, base, live_server.var)
    sign_in(page, base, *STAFF)
    # English screenshots and texts, whatever the staff account's own language.
    page.context.add_cookies([{"name": "lang", "value": "en", "url": base}])

    page.goto(f"{base}/staff/publish")
    page.locator("#use").select_option("website")
    page.locator("#event").select_option(str(event_id))
    page.get_by_role("button", name="Show the photos").click()
    expect(page.get_by_role("heading", name="2. Photos for: Club website")).to_be_visible()
    tiles = page.locator(".pub-tile")
    expect(tiles).to_have_count(len(PHOTOS))
    # Unknown faces on the website are covered, not left out; the dogs are shown as they are.
    expect(page.locator(".pub-tile", has_text="obama_and_biden.jpg")).to_contain_text(
        "Faces covered"
    )
    expect(page.locator(".pub-tile", has_text="dogs.jpg")).to_contain_text("Shown")
    images = page.locator(".pub-tile img")
    expect(images).to_have_count(len(PHOTOS))
    for index in range(len(PHOTOS)):
        expect(images.nth(index)).to_have_js_property("complete", True)
        assert images.nth(index).evaluate("img => img.naturalWidth") > 0
    page.locator("#title").fill("Autumn news")
    page.screenshot(path=artifacts / "publish-1280.png", full_page=True)

    with page.expect_download() as info:
        page.get_by_role("button", name="Download the ZIP file").click()
    download = info.value
    assert download.suggested_filename.startswith("consentlens-website-")
    archive = zipfile.ZipFile(download.path())
    names = sorted(archive.namelist())
    assert len(names) == len(PHOTOS) + 1 and "manifest.txt" in names
    # Named after the event and the uploaded file, as they unpack on the club's computer.
    assert names == sorted(
        [f"2026-11-21 {event_name} - {p.rsplit('/', 1)[-1].split('.')[0]}.jpg" for p in PHOTOS]
        + ["manifest.txt"]
    )
    assert f"Included ({len(PHOTOS)})" in archive.read("manifest.txt").decode()

    page.goto(f"{base}/staff/publications")
    row = page.get_by_role("row", name="Autumn news")
    expect(row).to_be_visible()
    expect(row.locator("td.num").first).to_have_text(str(len(PHOTOS)))
    page.screenshot(path=artifacts / "publications-1280.png", full_page=True)
    page.goto(f"{base}/staff/takedowns")
    expect(page.get_by_text("Nothing to take down.")).to_be_visible()
    page.screenshot(path=artifacts / "takedowns-1280.png", full_page=True)
    page.context.close()


def _tile(page, name: str):
    return page.locator(".pub-tile", has_text=name)


def test_switching_the_use_shows_and_downloads_for_the_use_now_chosen(
    browser, live_server, artifacts
):
    base = live_server.url
    page = new_page(browser, DESKTOP)
    api = page.context.request
    event_id, event_name = _seed_event(api, base, live_server.var)
    sign_in(page, base, *STAFF)
    page.context.add_cookies([{"name": "lang", "value": "en", "url": base}])

    page.goto(f"{base}/staff/publish")
    page.locator("#use").select_option("website")
    page.locator("#event").select_option(str(event_id))
    page.get_by_role("button", name="Show the photos").click()
    expect(page.get_by_role("heading", name="2. Photos for: Club website")).to_be_visible()
    expect(_tile(page, "obama_and_biden.jpg")).to_contain_text("Faces covered")
    page.locator("#title").fill("Instagram story")
    page.locator("#size-thumb").check()

    # Switched as the issue describes: the photos are shown again, judged for social media,
    # keeping the title and size already filled in.
    page.locator("#use").select_option("social_media")
    expect(page.get_by_role("heading", name="2. Photos for: Social media")).to_be_visible()
    expect(page).to_have_url(re.compile(r"use=social_media"))
    for name in ("obama_and_biden.jpg", "kit_harington_1.jpeg"):
        expect(_tile(page, name)).to_contain_text("Left out")
        expect(_tile(page, name).locator("input")).not_to_be_checked()
    expect(_tile(page, "dogs.jpg")).to_contain_text("Shown")
    expect(page.locator("#title")).to_have_value("Instagram story")
    expect(page.locator("#size-thumb")).to_be_checked()
    expect(page.locator("#download")).to_be_enabled()
    page.screenshot(path=artifacts / "publish-switched-1280.png", full_page=True)
    ids = {
        name: int(_tile(page, name).locator("input").get_attribute("value") or 0)
        for name in ("obama_and_biden.jpg", "kit_harington_1.jpeg", "dogs.jpg")
    }
    # Ticked anyway: the server judges each photo again for social media and leaves it out.
    _tile(page, "obama_and_biden.jpg").locator("label").click()

    with page.expect_download() as info:
        page.get_by_role("button", name="Download the ZIP file").click()
    download = info.value
    assert download.suggested_filename.startswith("consentlens-social-media-")
    archive = zipfile.ZipFile(download.path())
    dogs = f"2026-11-21 {event_name} - dogs.jpg"
    assert sorted(archive.namelist()) == sorted([dogs, "manifest.txt"])
    manifest = archive.read("manifest.txt").decode()
    assert "for Social media (social_media)" in manifest and "size thumb" in manifest
    assert "Included (1):" in manifest and "Left out (1):" in manifest
    assert f"obama_and_biden.jpg (photo {ids['obama_and_biden.jpg']}): " in manifest
    # The social-media rendering, byte for byte; the other two have none for social media.
    served = api.get(f"{base}/staff/photos/{ids['dogs.jpg']}/image?use=social_media&size=thumb")
    assert served.ok and archive.read(dogs) == served.body()
    for name in ("obama_and_biden.jpg", "kit_harington_1.jpeg"):
        hidden = api.get(f"{base}/staff/photos/{ids[name]}/image?use=social_media&size=thumb")
        assert hidden.status == 404, name

    # The record says social media too: in the database and on the publications page.
    with sqlite3.connect(f"file:{live_server.var / 'consentlens.db'}?mode=ro", uri=True) as db:
        (use, size, photos, left_out, publication_id), *more = db.execute(
            "SELECT use_code, size, photo_count, left_out_count, id FROM publications"
            " WHERE title = 'Instagram story'"
        ).fetchall()
        files = db.execute(
            "SELECT photo_id, file_name FROM published_photos WHERE publication_id = ?",
            (publication_id,),
        ).fetchall()
    assert not more and (use, size, photos, left_out) == ("social_media", "thumb", 1, 1)
    assert files == [(ids["dogs.jpg"], dogs)]
    page.goto(f"{base}/staff/publications")
    row = page.get_by_role("row", name="Instagram story")
    expect(row).to_contain_text("Social media")
    page.context.close()


def test_without_script_a_stale_list_is_shown_again_before_any_download(browser, live_server):
    base = live_server.url
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    event_id, _name = _seed_event(context.request, base, live_server.var)
    sign_in(page, base, *STAFF)
    context.add_cookies([{"name": "lang", "value": "en", "url": base}])
    page.goto(f"{base}/staff/publish?use=website&event={event_id}")
    expect(page.get_by_role("heading", name="2. Photos for: Club website")).to_be_visible()

    # Nothing reloads the list: the download button posts the dropdown's use, and the server
    # refuses to export photos judged for the website under it.
    page.locator("#use").select_option("social_media")
    page.get_by_role("button", name="Download the ZIP file").click()
    expect(page.get_by_role("alert")).to_contain_text("was changed after they were shown")
    expect(page.get_by_role("heading", name="2. Photos for: Social media")).to_be_visible()
    expect(_tile(page, "obama_and_biden.jpg")).to_contain_text("Left out")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the ZIP file").click()
    manifest = zipfile.ZipFile(info.value.path()).read("manifest.txt").decode()
    assert "for Social media (social_media)" in manifest
    context.close()
