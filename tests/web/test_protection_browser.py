"""An admin protects a child from the child page; the staff photo page then says why."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.pages import ADMIN, DESKTOP, PARENT, PHONE, new_page, sign_in
from tests.web.test_gallery_browser import _seed

pytestmark = pytest.mark.browser
# Unrecognised faces only (nobody in the demo is enrolled with these), and no face at all.
PHOTOS = ("groups/children_8.jpg", "negative/dogs.jpg")


def test_an_admin_protects_a_child_and_the_photo_page_says_why(browser, own_server, artifacts):
    base = own_server.url
    page = new_page(browser, DESKTOP)
    event_id = _seed(page.context.request, base, name="Protected day", photos=PHOTOS)
    sign_in(page, base, *ADMIN)
    page.context.add_cookies([{"name": "lang", "value": "en", "url": base}])

    page.goto(f"{base}/staff/children?q=Lotte+Peeters")
    page.get_by_role("link", name="Edit Lotte Peeters").click()
    child_url = page.url.split("?")[0]
    protection = page.locator("#protection")
    expect(protection.get_by_role("heading", name="Protection")).to_be_visible()
    protection.get_by_label("Reason (optional; for staff only, kept in the audit trail)").fill(
        "Court order"
    )
    protection.get_by_role("button", name="Protect this child").click()
    expect(page.get_by_role("heading", name="Protect Lotte Peeters?")).to_be_visible()
    page.screenshot(path=artifacts / "protect-confirm-1280.png", full_page=True)
    page.get_by_role("button", name="Yes, protect this child").click()
    expect(page.get_by_role("status")).to_contain_text("The child is protected.")
    expect(page.locator("h1 .badge-protected")).to_have_text("Protected")
    expect(page.locator("#protection")).to_contain_text("Reason: Court order")
    page.screenshot(path=artifacts / "protect-child-1280.png", full_page=True)

    # The event's photo with unrecognised faces is hidden in every use, and the page says why.
    page.goto(f"{base}/staff/events/{event_id}")
    page.locator("a[href^='/staff/photos/']").first.wait_for()
    links = page.locator("a[href^='/staff/photos/']")
    hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
    photo_pages = sorted(h.split("?")[0].split("#")[0] for h in hrefs if h)
    seen = []
    for href in photo_pages:
        page.goto(f"{base}{href}?use=website")
        seen.append(page.locator(".photo-hidden").count())
        if page.locator(".photo-hidden").count():
            expect(page.locator(".photo-hidden")).to_contain_text(
                "Hidden: a protected child may be in this photo (an unidentified face at an "
                "event of their group)."
            )
            page.screenshot(path=artifacts / "protect-photo-1280.png", full_page=True)
    # children_8 is hidden; the photo without faces is not.
    assert sorted(seen) == [0, 1], seen

    # Undo, from the same page, also after a confirmation.
    page.goto(child_url)
    page.locator("#protection").get_by_role("button", name="Stop protecting this child").click()
    page.get_by_role("button", name="Yes, stop protecting").click()
    expect(page.get_by_role("status")).to_contain_text("The child is no longer protected.")

    # The family page, in Dutch on a phone, while protected again.
    page.goto(child_url)
    page.locator("#protection").get_by_role("button", name="Protect this child").click()
    page.get_by_role("button", name="Yes, protect this child").click()
    parent = new_page(browser, PHONE)
    sign_in(parent, base, *PARENT)
    parent.goto(f"{base}/family")
    expect(parent.locator(".badge-protected")).to_have_count(1)
    parent.screenshot(path=artifacts / "protect-family-390.png", full_page=True)
