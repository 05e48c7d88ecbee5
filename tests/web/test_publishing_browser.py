"""Staff publish an event's photos for the website from a desktop browser and get the ZIP."""

from __future__ import annotations

import io
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


def _seed_event(api: APIRequestContext, base: str, var) -> int:
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
            return event_id
        assert not counts.get("failed"), counts
        assert time.monotonic() < deadline, f"photos not analysed in time: {counts}"
        time.sleep(0.5)


def test_staff_download_an_event_for_the_website(browser, live_server, artifacts):
    base = live_server.url
    page = new_page(browser, DESKTOP)
    event_id = _seed_event(page.context.request, base, live_server.var)
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
    assert all(n.startswith("photo-") and n.endswith(".jpg") for n in names if n != "manifest.txt")
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
