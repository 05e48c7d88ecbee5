"""Pages in headless Chromium, at phone and desktop widths, as people use them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.pages import (
    ADMIN,
    DESKTOP,
    PARENT,
    PHONE,
    assert_no_horizontal_scroll,
    new_page,
    sign_in,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_admin_signs_in_and_sees_the_club(browser, live_server, artifacts, viewport):
    page = new_page(browser, viewport)
    page.goto(f"{live_server.url}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=artifacts / f"login-{viewport['width']}.png", full_page=True)

    sign_in(page, live_server.url, *ADMIN)
    expect(page).to_have_url(f"{live_server.url}/admin")
    expect(page.get_by_role("heading", name="Sportclub De Lenteberg", level=1)).to_be_visible()
    # The sign-in page was read in the browser's English: the pages after it stay English,
    # though the demo admin's account is Dutch (no jump of language at sign-in).
    expect(page.get_by_role("row", name="Social media")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=artifacts / f"admin-{viewport['width']}.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/login")
    page.context.close()


def test_a_parent_signs_in_on_a_phone_in_dutch_with_the_keyboard(browser, live_server, artifacts):
    page = new_page(browser, PHONE, locale="nl-BE")
    page.goto(f"{live_server.url}/login")
    expect(page.get_by_role("heading", name="Aanmelden")).to_be_visible()
    # The e-mail field has focus on arrival; Tab reaches the password, Enter submits.
    page.keyboard.type(PARENT[0])
    page.keyboard.press("Tab")
    page.keyboard.type(PARENT[1])
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/family")
    expect(page.get_by_role("heading", name="Mijn kinderen")).to_be_visible()
    expect(page.get_by_role("heading", name="Lotte Peeters")).to_be_visible()
    expect(page.get_by_role("heading", name="Noah Peeters")).to_be_visible()
    expect(page.get_by_text("Emma Dubois")).to_have_count(0)
    expect(page.get_by_text("Geweigerd door het kind").first).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=artifacts / "family-390-nl.png", full_page=True)
    page.context.close()


def test_wrong_password_is_announced(browser, live_server):
    page = new_page(browser, PHONE, locale="fr-BE")
    page.goto(f"{live_server.url}/login")
    page.locator("#email").fill(ADMIN[0])
    page.locator("#password").fill("not-the-password")
    page.locator("form.stack button[type=submit]").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("ne correspondent pas")
    expect(page.locator("#email")).to_have_value(ADMIN[0])
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    page.context.close()


def test_the_language_switch(browser, live_server):
    page = new_page(browser, PHONE, locale="nl-BE")
    page.goto(f"{live_server.url}/login")
    page.get_by_role("link", name="Français").click()
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.context.close()


def test_touch_targets_are_large_enough_on_a_phone(browser, live_server):
    page = new_page(browser, PHONE)
    page.goto(f"{live_server.url}/login")
    for selector in ("#email", "#password", "form.stack button", ".lang-switch a"):
        for box in [el.bounding_box() for el in page.locator(selector).all()]:
            assert box is not None and box["height"] >= 44 and box["width"] >= 44, selector
    page.context.close()
