"""Staff in Chromium: a portrait enrolled with a busy button, then a recognised face un-named on
the photo page (blurred again at once) and named again."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import APIRequestContext, Page, expect

from tests.factories.photos import FACES
from tests.web.pages import DESKTOP, STAFF, new_page, sign_in

pytestmark = pytest.mark.browser
# Emma has face-recognition and private-gallery consent (demo.py); no other browser test names
# her or uses these two portraits of one man.
CHILD = ("Emma", "Dubois")
PORTRAIT = "portraits/alex_lacamoire_1.jpg"
PHOTO = "portraits/alex_lacamoire_2.jpg"


def _api(api: APIRequestContext, base: str) -> dict[str, str]:
    token = api.post(
        f"{base}/api/v1/auth/token", form={"username": STAFF[0], "password": STAFF[1]}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _photo_of(
    api: APIRequestContext, base: str, auth: dict[str, str], groups: list[int], photo: str = PHOTO
) -> int:
    """An event of the child's group with one photo, analysed by the worker."""
    created = api.post(
        f"{base}/api/v1/events",
        headers=auth,
        data={
            "name": f"Training {uuid.uuid4().hex[:6]}",
            "date": "2026-11-28",
            "group_ids": groups,
        },
    )
    assert created.status == 201, created.text()
    event_id = created.json()["id"]
    # A new tail after the JPEG's end: same pixels, a hash no other test uploaded.
    data = (FACES / photo).read_bytes() + uuid.uuid4().hex.encode()
    uploaded = api.post(
        f"{base}/api/v1/events/{event_id}/photos",
        headers=auth,
        multipart={"files": {"name": "training.jpg", "mimeType": "image/jpeg", "buffer": data}},
    )
    assert uploaded.ok, uploaded.text()
    photo_id = uploaded.json()[0]["id"]
    deadline = time.monotonic() + 90
    while True:
        counts = api.get(f"{base}/api/v1/events/{event_id}", headers=auth).json()["photo_counts"]
        if not counts.get("pending") and not counts.get("processing"):
            break
        assert time.monotonic() < deadline, f"photo not analysed in time: {counts}"
        time.sleep(0.3)
    assert not counts.get("failed"), counts
    return photo_id


def _image(page: Page) -> bytes:
    image = page.locator("#photo-frame img")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    response = page.request.get(page.url.split("/staff/")[0] + image.get_attribute("src"))
    assert response.ok
    return response.body()


def _change(page: Page) -> object:
    row = page.locator(".faces-table tbody tr").first
    row.locator("summary", has_text="Change").click()
    return row


def test_staff_enrol_a_portrait_then_unname_and_rename_a_face(browser, live_server, artifacts):
    base = live_server.url
    page = new_page(browser, DESKTOP)
    sign_in(page, base, *STAFF)
    expect(page).to_have_url(f"{base}/admin")
    page.context.add_cookies([{"name": "lang", "value": "en", "url": base}])
    auth = _api(page.request, base)
    children = page.request.get(f"{base}/api/v1/children", headers=auth).json()
    (child,) = [c for c in children if (c["first_name"], c["last_name"]) == CHILD]
    name = " ".join(CHILD)

    # The portrait: while the face is measured the button says so and cannot send twice.
    page.goto(f"{base}/staff/children/{child['id']}")
    form = page.locator("form.rv-upload")
    button = form.locator("button[type=submit]")
    form.get_by_label(re.compile("Portrait of")).set_input_files(FACES / PORTRAIT)
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.url) if r.url.endswith("/reference-photos") else None,
    )
    # Right after the submit (the server is still measuring the face), the page notes what the
    # button shows and tries to send the form again; the note outlives the navigation.
    form.evaluate(
        """f => f.addEventListener("submit", event => {
          if (event.defaultPrevented) { sessionStorage.setItem("second", "refused"); return; }
          setTimeout(() => {
            const b = f.querySelector("button[type=submit]");
            sessionStorage.setItem("seen", JSON.stringify({
              disabled: b.disabled, busy: b.getAttribute("aria-busy"), text: b.textContent.trim(),
              status: f.querySelector("[data-busy-status]").textContent,
            }));
            f.requestSubmit();
          }, 0);
        })"""
    )
    button.click()
    expect(page.get_by_role("status").first).to_contain_text("Reference face saved.")
    busy = "Analysing the photo… this takes a few seconds"
    assert page.evaluate("JSON.parse(sessionStorage.getItem('seen'))") == {
        "disabled": True,
        "busy": "true",
        "text": busy,
        "status": busy,
    }
    assert page.evaluate("sessionStorage.getItem('second')") == "refused"
    assert len(sent) == 1, sent

    # Another photo of the same man: recognised as Emma, and shown in the private gallery.
    photo_id = _photo_of(page.request, base, auth, child["group_ids"])
    page.goto(f"{base}/staff/photos/{photo_id}")
    row = page.locator(".faces-table tbody tr").first
    expect(row).to_contain_text("Recognised")
    expect(row.get_by_role("link", name=name)).to_be_visible()
    expect(page.locator("figcaption")).to_have_text(re.compile(r"^\s*Shown:"))
    shown = _image(page)

    # A wrong name: removed, and the face is blurred at once.
    row = _change(page)
    option = row.locator("option", has_text=name)
    expect(option).to_have_text(re.compile(rf"^{name} \(\d{{4}} · U10 Dolfijnen\)$"))
    page.screenshot(path=artifacts / "photo-change-open-1280.png", full_page=True)
    row.get_by_role("button", name="Remove the name").click()
    expect(page.get_by_role("status")).to_have_text(
        "Face 1 has no name any more: it is blurred and waits for review."
    )
    row = page.locator(".faces-table tbody tr").first
    expect(row).to_contain_text("Not recognised")
    expect(row.get_by_role("link", name=name)).to_have_count(0)
    expect(page.locator("figcaption")).to_contain_text("Shown, faces blurred")
    expect(page.get_by_role("link", name="Review faces of this event")).to_be_visible()
    blurred = _image(page)
    assert blurred != shown
    page.screenshot(path=artifacts / "photo-unnamed-1280.png", full_page=True)

    # "Name this child" without a child: the reason on the face's own row, the row kept open.
    row = _change(page)
    row.get_by_role("button", name="Name this child").click()
    row = page.locator(".faces-table tbody tr").first
    expect(row.get_by_role("alert")).to_have_text("Choose the child this is.")
    expect(row.get_by_role("alert")).to_be_focused()
    expect(row.locator("details")).to_have_attribute("open", "")

    # Named again by staff: shown again.
    value = row.locator("option", has_text=name).get_attribute("value")
    row.locator("select").select_option(value)
    row.get_by_role("button", name="Name this child").click()
    expect(page.get_by_role("status")).to_have_text(f"Face 1 is now named {name}.")
    row = page.locator(".faces-table tbody tr").first
    expect(row).to_contain_text("Confirmed by staff")
    expect(page.locator("figcaption")).to_have_text(re.compile(r"^\s*Shown:"))
    assert _image(page) != blurred
    page.screenshot(path=artifacts / "photo-renamed-1280.png", full_page=True)
    page.context.close()


def test_staff_mark_the_rest_of_a_queue_as_not_club_members(browser, live_server, artifacts):
    base = live_server.url
    page = new_page(browser, DESKTOP)
    sign_in(page, base, *STAFF)
    expect(page).to_have_url(f"{base}/admin")
    page.context.add_cookies([{"name": "lang", "value": "en", "url": base}])
    auth = _api(page.request, base)
    children = page.request.get(f"{base}/api/v1/children", headers=auth).json()
    (child,) = [c for c in children if (c["first_name"], c["last_name"]) == CHILD]
    # Fourteen adults nobody enrolled: a queue of strangers.
    photo_id = _photo_of(page.request, base, auth, child["group_ids"], "groups/group_14.jpg")
    page.goto(f"{base}/staff/photos/{photo_id}")
    page.get_by_role("link", name="Review faces of this event").click()
    cards = page.locator(".rv-group")
    total = cards.count()
    assert total >= 3
    last_faces = cards.nth(total - 1).locator(".rv-face").count()
    faces = page.locator(".rv-face").count()

    # A refused choice keeps what was ticked elsewhere, and shows the reason on its own card.
    cards.nth(1).get_by_role("checkbox", name=re.compile("^Select P")).check()
    cards.nth(0).get_by_role("button", name="Name this child").click()
    expect(cards.nth(0).get_by_role("alert")).to_have_text("Choose the child this is.")
    expect(cards.nth(0).get_by_role("alert")).to_be_focused()
    expect(cards.nth(1).get_by_role("checkbox", name=re.compile("^Select P"))).to_be_checked()
    page.screenshot(path=artifacts / "review-error-1280.png")

    # Everyone but the last card: not children of our club, in one go.
    select_all = page.get_by_label("Select all")
    select_all.check()
    cards.nth(total - 1).get_by_role("checkbox", name=re.compile("^Select P")).uncheck()
    expect(select_all).to_have_js_property("indeterminate", True)
    page.get_by_role("button", name="Selected: not children of our club").click()
    done = faces - last_faces
    expect(page.get_by_role("status")).to_have_text(
        f"{done} faces marked as not a child of our club. They stay blurred."
    )
    expect(cards).to_have_count(1)
    page.screenshot(path=artifacts / "review-bulk-done-1280.png", full_page=True)
    page.context.close()
