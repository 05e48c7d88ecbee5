"""A parent browses the club's photos on a phone and asks for one to be removed; staff see it."""

from __future__ import annotations

import email
import email.policy
import re
import time

import pytest
from playwright.sync_api import APIRequestContext, Page, expect

from tests.factories.photos import FACES
from tests.web.pages import DESKTOP, PARENT, PHONE, STAFF, new_page, sign_in, small_targets

pytestmark = pytest.mark.browser
PHOTOS = ("groups/children_8.jpg", "groups/kit_with_rose.jpg", "negative/dogs.jpg")
OTHER_PHOTOS = ("groups/group_14.jpg", "groups/obama_and_biden.jpg", "portraits/rose_leslie_1.jpg")


def _seed(api: APIRequestContext, base: str, name: str = "Spring tournament", photos=PHOTOS) -> int:
    """An event of Lotte's team with a few photos, through the API, analysed by the worker."""
    token = api.post(
        f"{base}/api/v1/auth/token", form={"username": STAFF[0], "password": STAFF[1]}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    children = api.get(f"{base}/api/v1/children", headers=auth).json()
    (lotte,) = [c for c in children if (c["first_name"], c["last_name"]) == ("Lotte", "Peeters")]
    created = api.post(
        f"{base}/api/v1/events",
        headers=auth,
        data={"name": name, "date": "2026-04-12", "group_ids": lotte["group_ids"]},
    )
    assert created.status == 201, created.text()
    event_id = created.json()["id"]
    for photo in photos:
        path = FACES / photo
        uploaded = api.post(
            f"{base}/api/v1/events/{event_id}/photos",
            headers=auth,
            multipart={
                "files": {"name": path.name, "mimeType": "image/jpeg", "buffer": path.read_bytes()}
            },
        )
        assert uploaded.ok and uploaded.json()[0]["id"], uploaded.text()
    deadline = time.monotonic() + 40
    while True:
        counts = api.get(f"{base}/api/v1/events/{event_id}", headers=auth).json()["photo_counts"]
        if not counts.get("pending") and not counts.get("processing"):
            break
        assert time.monotonic() < deadline, f"photos not analysed in time: {counts}"
        time.sleep(0.3)
    assert sum(counts.values()) == len(photos) and not counts.get("failed"), counts
    return event_id


def _images_loaded(page: Page, selector: str) -> None:
    # Each image was fetched and decoded: a 404 or a refused request leaves it broken.
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)",
        arg=selector,
    )


def _no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the screen"


def _small_targets(page: Page, selector: str) -> list[str]:
    return page.evaluate(
        """s => [...document.querySelectorAll(s)]
              .filter(e => {
                const r = e.getBoundingClientRect();
                return r.height < 44 || r.width < 44;
              })
              .map(e => e.outerHTML.slice(0, 80))""",
        selector,
    )


def test_a_parent_browses_the_gallery_on_a_phone_and_asks_for_a_removal(
    browser, live_server, artifacts
):
    base = live_server.url
    phone = new_page(browser, PHONE, locale="en-GB")
    event_id = _seed(phone.context.request, base)
    # Ann's account is in Dutch; the assertions read English (without changing her account).
    phone.context.add_cookies([{"name": "lang", "value": "en", "url": base}])
    sign_in(phone, base, *PARENT)

    phone.get_by_role("link", name="Photos", exact=True).click()
    expect(phone.get_by_role("heading", name="Photos", level=1)).to_be_visible()
    expect(phone.get_by_role("link", name="Photos of my children")).to_be_visible()
    event_link = phone.get_by_role("link", name=re.compile("Spring tournament"))
    expect(event_link).to_be_visible()
    _no_horizontal_scroll(phone)
    assert _small_targets(phone, "main a, main button") == []
    phone.screenshot(path=artifacts / "gallery-events-390.png", full_page=True)

    event_link.click()
    expect(phone).to_have_url(f"{base}/gallery/events/{event_id}")
    thumbs = phone.locator(".g-grid img")
    expect(thumbs).to_have_count(len(PHOTOS))
    expect(thumbs.first).to_have_attribute("alt", re.compile("Photo from Spring tournament"))
    _images_loaded(phone, ".g-grid img")
    _no_horizontal_scroll(phone)
    assert _small_targets(phone, "main a") == []
    phone.screenshot(path=artifacts / "gallery-event-390.png", full_page=True)

    phone.locator(".g-grid a").first.click()
    expect(phone.get_by_role("heading", name="Spring tournament", level=1)).to_be_visible()
    _images_loaded(phone, ".g-photo")
    download = phone.get_by_role("link", name="Download")
    expect(download).to_have_attribute("href", re.compile(r"/gallery/photos/\d+/download$"))
    _no_horizontal_scroll(phone)
    phone.screenshot(path=artifacts / "gallery-photo-390.png", full_page=True)

    removed_url = phone.url
    phone.get_by_label("Message to the club (optional)").fill("Lotte would rather not be in it.")
    phone.get_by_role("button", name="Ask the club to remove this photo").click()
    expect(phone.get_by_role("status")).to_contain_text("Thank you. The club has your request")
    expect(phone.get_by_text("You asked the club to remove this photo on")).to_be_visible()
    _no_horizontal_scroll(phone)
    phone.screenshot(path=artifacts / "gallery-removal-390.png", full_page=True)
    phone.context.close()

    staff = new_page(browser, DESKTOP, locale="en-GB")
    staff.context.add_cookies([{"name": "lang", "value": "en", "url": base}])
    sign_in(staff, base, *STAFF)
    staff.goto(f"{base}/staff/gallery?event={event_id}")
    expect(staff.locator(".g-tile")).to_have_count(len(PHOTOS))
    _images_loaded(staff, ".g-tile img")
    staff.screenshot(path=artifacts / "gallery-staff-1280.png", full_page=True)
    # The tab carries a count of open requests beside its name.
    staff.get_by_role("link", name=re.compile(r"^Removal requests")).click()
    request = staff.locator(".g-request", has_text="Lotte would rather not be in it.")
    expect(request.get_by_role("heading", name="Ann Peeters")).to_be_visible()
    staff.screenshot(path=artifacts / "gallery-removals-1280.png", full_page=True)
    request.get_by_label("Hide it from everyone", exact=False).check()
    request.get_by_role("button", name="Confirm and tell the family").click()
    expect(staff.get_by_role("status")).to_contain_text("the photo is hidden from everyone")
    expect(staff.get_by_text("Lotte would rather not be in it.")).to_have_count(0)
    # Staff still find it, marked hidden, and can undo it from its page.
    staff.goto(f"{base}/staff/gallery?event={event_id}&show=hidden_by_staff")
    expect(staff.locator(".g-tile")).to_have_count(1)
    staff.locator(".g-tile a").first.click()
    expect(staff.get_by_role("note").filter(has_text="Hidden from everyone")).to_be_visible()
    expect(staff.get_by_role("button", name="Show it again (the consents decide)")).to_be_visible()
    staff.screenshot(path=artifacts / "gallery-staff-hidden-1280.png", full_page=True)
    staff.context.close()

    phone = new_page(browser, PHONE, locale="en-GB")
    phone.context.add_cookies([{"name": "lang", "value": "en", "url": base}])
    sign_in(phone, base, *PARENT)
    phone.goto(f"{base}/gallery/events/{event_id}")
    expect(phone.locator(".g-grid img")).to_have_count(len(PHOTOS) - 1)
    _images_loaded(phone, ".g-grid img")
    assert phone.request.get(removed_url).status == 404
    phone.goto(f"{base}/gallery")
    own = phone.locator(".g-own-requests li", has_text="Spring tournament")
    expect(own.get_by_text("Done", exact=True)).to_be_visible()
    expect(own).to_contain_text("nobody sees it in the gallery any more")
    _no_horizontal_scroll(phone)
    phone.screenshot(path=artifacts / "gallery-removal-done-390.png", full_page=True)
    phone.context.close()

    # The parent was told, in the language of her account (Dutch); the mail leaves after the
    # response, so it may take a moment to land.
    deadline = time.monotonic() + 15
    while True:
        mails = [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in (live_server.var / "outbox").glob("*.eml")
        ]
        told = [m for m in mails if m["To"] == PARENT[0] and "foto weg te halen" in m["Subject"]]
        if told or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert len(told) == 1, [m["Subject"] for m in mails]
    body = told[0].get_body(("plain",)).get_content()
    assert "De club heeft de foto weggehaald" in body and "Spring tournament" in body


def _photo_id(page: Page) -> int:
    return int(re.search(r"/gallery/photos/(\d+)", page.url).group(1))


def test_a_parent_steps_through_an_events_photos_with_previous_and_next(
    browser, live_server, artifacts
):
    base = live_server.url
    phone = new_page(browser, PHONE, locale="en-GB")
    # Other files than the first test's: the same file again is the same photo.
    event_id = _seed(phone.context.request, base, name="Summer camp", photos=OTHER_PHOTOS)
    phone.context.add_cookies([{"name": "lang", "value": "en", "url": base}])
    sign_in(phone, base, *PARENT)
    phone.goto(f"{base}/gallery/events/{event_id}")
    grid = [
        int(href.rsplit("/", 1)[1])
        for href in phone.locator(".g-grid a").evaluate_all("links => links.map(a => a.href)")
    ]
    assert len(grid) == len(OTHER_PHOTOS)

    phone.locator(".g-grid a").first.click()
    seen = [_photo_id(phone)]
    step = phone.get_by_role("navigation", name="Other photos")
    expect(step.get_by_role("link", name="Previous photo")).to_have_count(0)
    assert small_targets(phone, ".g-step a") == []
    _no_horizontal_scroll(phone)
    phone.screenshot(path=artifacts / "gallery-step-390.png", full_page=True)
    # Forward with the arrow key, then with the link; the last photo has no "next".
    phone.keyboard.press("ArrowRight")
    expect(phone).not_to_have_url(re.compile(f"/gallery/photos/{seen[0]}$"))
    seen.append(_photo_id(phone))
    step.get_by_role("link", name="Next photo").click()
    expect(phone).not_to_have_url(re.compile(f"/gallery/photos/{seen[1]}$"))
    seen.append(_photo_id(phone))
    expect(step.get_by_role("link", name="Next photo")).to_have_count(0)
    assert seen == grid  # the same photos as the grid, in its order, and nothing else
    # Back with the keyboard alone: the link takes focus and Enter follows it.
    previous = step.get_by_role("link", name="Previous photo")
    previous.focus()
    expect(previous).to_be_focused()
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(f"{base}/gallery/photos/{seen[1]}")
    phone.keyboard.press("ArrowLeft")
    expect(phone).to_have_url(f"{base}/gallery/photos/{seen[0]}")
    # Typing a message to the club does not turn the page.
    phone.get_by_label("Message to the club (optional)").press("ArrowRight")
    expect(phone).to_have_url(f"{base}/gallery/photos/{seen[0]}")
    phone.context.close()
