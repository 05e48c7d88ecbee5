"""Staff upload an event's photos in a desktop browser, watch the analysis and review the faces."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories.photos import FACES
from tests.web.pages import DESKTOP, new_page, sign_in

pytestmark = pytest.mark.browser
STAFF = ("staff@demo.consentlens.test", "demo-staff-2026")
GROUP = "U10 Dolfijnen"
# Milan is in the event's group; his guardian allows face recognition and the private gallery but
# refused the club website (see demo.py), and no other browser test changes his answers.
CHILD = "Milan Wouters"
PHOTOS = ("portraits/kit_harington_1.jpeg", "groups/kit_with_rose.jpg", "negative/dogs.jpg")
BAD = "not-a-photo.jpg"
# The worker spawns its processes and loads the face models before the first photo.
ANALYSIS_MS = 90_000


def _files(tmp_path: Path) -> list[Path]:
    """The real photos with a unique tail after the JPEG's end (same pixels, a new hash: a file
    another test put on the same live server would be refused as a duplicate), and a bad file."""
    files = []
    for name in PHOTOS:
        target = tmp_path / Path(name).name
        target.write_bytes((FACES / name).read_bytes() + uuid.uuid4().hex.encode())
        files.append(target)
    bad = tmp_path / BAD
    bad.write_text("These are the minutes of the club meeting, not a photo.\n")
    return [files[0], bad, *files[1:]]


def test_staff_upload_photos_and_review_the_faces(browser, live_server, artifacts, tmp_path):
    base = live_server.url
    page = new_page(browser, DESKTOP)
    sign_in(page, base, *STAFF)
    expect(page).to_have_url(f"{base}/admin")
    # English texts, whatever the demo account's language; a cookie, so the account keeps Dutch.
    page.context.add_cookies([{"name": "lang", "value": "en", "url": base}])
    page.reload()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Photos").click()
    expect(page.get_by_role("heading", name="Photos", level=1)).to_be_visible()

    event_name = f"Swimming gala {uuid.uuid4().hex[:6]}"
    page.get_by_label("Name of the event").fill(event_name)
    page.get_by_label("Date").fill("2026-11-21")
    page.get_by_role("group", name="Groups at the event").get_by_label(GROUP).check()
    page.get_by_role("button", name="Create event").click()
    expect(page.get_by_role("heading", name=event_name, level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("The event was created. Add its photos below.")
    expect(page.locator(".event-meta")).to_contain_text(GROUP)
    expect(page.locator("#no-photos")).to_be_visible()

    files = _files(tmp_path)
    page.locator("#upload-files").set_input_files(files)
    rows = page.locator("#upload-list .upload-item")
    expect(rows).to_have_count(len(files))
    # The "event created" notice has done its work once photos are being added.
    expect(page.get_by_text("The event was created. Add its photos below.")).to_have_count(0)
    page.screenshot(path=artifacts / "event-upload-1280.png", full_page=True)
    for path in files:
        row = rows.filter(has_text=path.name)
        if path.name == BAD:
            expect(row).to_have_class(re.compile(r"\bis-failed\b"))
            expect(row.locator(".upload-state")).to_have_text(
                "This is not a photo ConsentLens can read. Use JPEG, PNG, WebP or HEIC."
            )
            # Not a photo: sending the same file again cannot succeed, so no Retry is offered.
            expect(row.locator(".upload-retry")).to_be_hidden()
        else:
            expect(row).to_have_class(re.compile(r"\bis-done\b"))
            expect(row.locator(".upload-state")).to_have_text("Uploaded")
            expect(row.get_by_role("progressbar")).to_have_js_property("value", 100)
            expect(row.get_by_role("button")).to_be_hidden()
    good = len(PHOTOS)
    expect(page.locator("#upload-overall-label")).to_have_text(
        f"{good} of {len(files)} files uploaded"
    )
    expect(page.locator("#upload-overall")).to_have_js_property("value", 100)
    expect(page.locator("#upload-live")).to_have_text(
        f"Upload finished: {good} files uploaded, 1 with a problem."
    )
    expect(rows).to_have_count(len(files))

    # The analysis section follows the worker on its own, without a reload.
    tiles = page.locator("#tiles .tile")
    expect(tiles).to_have_count(good)
    expect(page.locator("#no-photos")).to_be_hidden()
    page.screenshot(path=artifacts / "event-analysing-1280.png", full_page=True)
    expect(page.locator("#analysed-label")).to_have_text(
        f"{good} of {good} analysed", timeout=ANALYSIS_MS
    )
    expect(page.locator("#analysed-bar")).to_have_js_property("value", good)
    counts = page.get_by_role("list", name="Photos per state")
    for status in ("pending", "processing", "failed"):
        expect(counts.locator(f"li[data-status={status}] .status-count")).to_have_text("0")
    dogs = tiles.filter(has_text="dogs.jpg")
    expect(dogs.locator(".tile-status")).to_have_text("Ready")
    expect(dogs.locator(".tile-faces")).to_have_text("0 faces")
    for name in ("kit_harington_1.jpeg", "kit_with_rose.jpg"):
        expect(tiles.filter(has_text=name).locator(".tile-status")).to_have_text("Needs review")
    expect(tiles.filter(has_text="kit_with_rose.jpg").locator(".tile-faces")).to_have_text(
        "2 faces"
    )
    thumbnails = page.locator("#tiles .tile-image img")
    expect(thumbnails).to_have_count(good)
    for index in range(good):
        thumbnail = thumbnails.nth(index)
        thumbnail.scroll_into_view_if_needed()
        expect(thumbnail).to_have_js_property("complete", True)
        assert thumbnail.evaluate("img => img.naturalWidth") > 0
    review_link = page.locator("#review-link")
    expect(review_link).to_have_text(re.compile(r"Review \d+ faces?"))
    page.screenshot(path=artifacts / "event-analysed-1280.png", full_page=True)

    review_link.click()
    expect(page.get_by_role("heading", name="Review faces", level=1)).to_be_visible()
    cards = page.locator(".rv-group")
    before = cards.count()
    assert before >= 1
    crops = page.locator(".rv-face img")
    for index in range(crops.count()):
        crop = crops.nth(index)
        crop.scroll_into_view_if_needed()
        expect(crop).to_have_js_property("complete", True)
        assert crop.evaluate("img => img.naturalWidth") > 0, crop.get_attribute("src")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=artifacts / "review-before-1280.png", full_page=True)

    # Kit Harington is in two of the photos: one card holds both his faces.
    card = cards.filter(has=page.locator(".rv-count", has_text="2 faces"))
    expect(card).to_have_count(1)
    # Each child's birth year and groups beside the name tell namesakes apart.
    option = card.locator("option", has_text=CHILD)
    expect(option).to_have_text(re.compile(rf"^{CHILD} \(\d{{4}} · {GROUP}\)$"))
    card.get_by_label("This is").select_option(option.get_attribute("value"))
    card.get_by_role("button", name="Name this child").click()
    expect(page.get_by_role("status")).to_have_text(f"2 faces named {CHILD}.")
    expect(page.locator(".alert-success")).to_be_visible()
    if before > 1:
        expect(cards).to_have_count(before - 1)
    else:
        expect(page.get_by_role("heading", name="Nothing to review")).to_be_visible()
    page.screenshot(path=artifacts / "review-after-1280.png", full_page=True)

    # The portrait, now named, with its face box over the image as the private gallery shows it.
    page.get_by_role("link", name=event_name).click()
    page.locator("#tiles .tile-link", has_text="kit_harington_1.jpeg").click()
    expect(page.get_by_role("heading", name="kit_harington_1.jpeg", level=1)).to_be_visible()
    image = page.locator("#photo-frame img")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    expect(page.locator(".face-box")).to_have_count(1)
    expect(page.locator(".face-box")).to_be_visible()
    expect(page.get_by_role("cell", name=CHILD, exact=True)).to_be_visible()
    expect(page.locator("figcaption")).to_contain_text("Shown")
    page.screenshot(path=artifacts / "photo-1280.png", full_page=True)
    response = page.request.get(f"{base}{image.get_attribute('src')}")
    assert response.ok
    assert response.headers["content-type"] == "image/jpeg"
    assert response.body()[:3] == b"\xff\xd8\xff"
    # On the club website, which Milan's guardian refused, his head is covered.
    page.get_by_role("navigation", name="Show the photo as it appears in").get_by_role(
        "link", name="Club website"
    ).click()
    expect(page.locator("figcaption")).to_contain_text("Shown, faces blurred")
    expect(page.locator("#photo-frame img")).to_have_js_property("complete", True)
    page.screenshot(path=artifacts / "photo-website-1280.png", full_page=True)

    # The group photo: Kit's face now named, Rose's still unknown and covered.
    page.get_by_role("link", name=event_name).click()
    page.locator("#tiles .tile-link", has_text="kit_with_rose.jpg").click()
    expect(page.get_by_role("heading", name="kit_with_rose.jpg", level=1)).to_be_visible()
    expect(page.locator(".face-box")).to_have_count(2)
    expect(page.locator("#photo-frame img")).to_have_js_property("complete", True)
    expect(page.locator("figcaption")).to_contain_text("Shown, faces blurred")
    page.screenshot(path=artifacts / "photo-group-1280.png", full_page=True)
    page.context.close()
