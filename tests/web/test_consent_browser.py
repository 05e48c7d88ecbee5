"""A parent consents on a phone in Dutch through the personal link; staff see it in the overview."""

from __future__ import annotations

import email
import email.policy
import re
import time

import pytest
from playwright.sync_api import expect

from tests.pdfs import pages_text
from tests.web.pages import (
    DESKTOP,
    PARENT,
    PHONE,
    STAFF,
    assert_no_horizontal_scroll,
    new_page,
    sign_in,
    small_targets,
)

pytestmark = pytest.mark.browser


def newest_link(outbox, address: str, *, since: float = 0.0) -> str:
    """The link of the newest mail to `address` written after `since` (mails leave once the
    response is sent: wait for it a moment)."""
    deadline = time.monotonic() + 30
    while True:
        paths = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
        for path in paths:
            if path.stat().st_mtime < since:
                break
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == address:
                body = message.get_body(("plain",)).get_content()
                return re.search(r"https?://\S+/c/\S+", body).group(0)
        if time.monotonic() > deadline:
            raise AssertionError(f"no e-mail to {address} in {outbox}")
        time.sleep(0.2)


def test_parent_consents_on_a_phone_and_staff_see_it(browser, live_server, artifacts):
    # A Dutch-speaking coach: the pages stay in the language the sign-in page was read in.
    staff = new_page(browser, DESKTOP, locale="nl-BE")
    sign_in(staff, live_server.url, *STAFF)
    staff.goto(f"{live_server.url}/staff/groups/1/consents")
    lotte = staff.get_by_role("row", name=re.compile("Lotte Peeters"))
    print_cell = lotte.locator("td").nth(2)
    expect(print_cell).to_contain_text("Wacht op antwoord")
    staff.screenshot(path=artifacts / "overview-1280.png", full_page=True)

    staff.get_by_role("link", name="Lotte Peeters").click()
    expect(staff.get_by_role("heading", name="Lotte Peeters", level=1)).to_be_visible()
    bart_row = staff.locator(".people li", has_text="Bart Peeters")
    clicked = time.time()
    bart_row.get_by_role("button", name="Link sturen").click()
    expect(staff.locator(".alert[role=status]")).to_contain_text("1 e-mail is onderweg")
    staff.screenshot(path=artifacts / "child-1280.png", full_page=True)

    link = newest_link(
        live_server.var / "outbox", "bart.peeters@demo.consentlens.test", since=clicked - 1
    )
    phone = new_page(browser, PHONE, locale="nl-BE")
    phone.goto(link)
    expect(phone.get_by_role("heading", name="Foto's van uw kinderen")).to_be_visible()
    lotte_card = phone.locator("section", has=phone.get_by_role("heading", name="Lotte Peeters"))
    print_choice = lotte_card.get_by_role("group", name="Nieuwsbrief en drukwerk")
    print_choice.get_by_text("Ja", exact=True).click()
    expect(print_choice.get_by_role("radio", name="Ja")).to_be_checked()
    phone.screenshot(path=artifacts / "consent-390-nl.png", full_page=True)
    overflow = phone.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    phone.get_by_role("button", name="Mijn antwoorden nakijken").click()
    expect(phone.get_by_role("heading", name="Kijk uw antwoorden na")).to_be_visible()
    expect(phone.get_by_text("Nieuwsbrief en drukwerk")).to_be_visible()
    phone.screenshot(path=artifacts / "review-390-nl.png", full_page=True)
    phone.get_by_role("button", name="Bevestigen en bewaren").click()
    expect(phone.get_by_role("status")).to_contain_text("Bedankt, uw antwoorden zijn bewaard.")
    phone.screenshot(path=artifacts / "done-390-nl.png", full_page=True)

    staff.goto(f"{live_server.url}/staff/groups/1/consents")
    lotte = staff.get_by_role("row", name=re.compile("Lotte Peeters"))
    expect(lotte.locator("td").nth(2)).to_contain_text("Ja")
    phone.context.close()
    staff.context.close()


def _card(page, name: str):
    return page.locator("section.card", has=page.get_by_role("heading", name=name, level=2))


def test_a_signed_in_parent_changes_an_answer_from_home_and_downloads_the_form(
    browser, live_server, artifacts
):
    base = live_server.url
    phone = new_page(browser, PHONE, locale="en-GB")
    # Ann's account is in Dutch; the assertions read English (without changing her account).
    phone.context.add_cookies([{"name": "lang", "value": "en", "url": base}])
    sign_in(phone, base, *PARENT)
    expect(phone).to_have_url(f"{base}/family")
    noah = _card(phone, "Noah Peeters")
    assert_no_horizontal_scroll(phone)
    assert small_targets(phone, "main a, main button") == []
    phone.screenshot(path=artifacts / "family-home-390.png", full_page=True)

    noah.get_by_role("link", name="Change answers").click()
    expect(phone.get_by_role("heading", name="Noah Peeters")).to_be_visible()
    expect(phone.get_by_role("heading", name="Lotte Peeters")).to_have_count(0)
    # A withdrawal (newsletter: yes → no) and a new answer (press: yes).
    phone.get_by_role("group", name="Newsletter and print").get_by_text("No", exact=True).click()
    phone.get_by_role("group", name="Press").get_by_text("Yes", exact=True).click()
    phone.get_by_role("button", name="Check my answers").click()
    changes = phone.locator(".changes li")
    expect(changes).to_have_count(2)
    # The review lists the uses in the order of the form.
    expect(changes.nth(0)).to_contain_text("Newsletter and print")
    expect(changes.nth(0)).to_contain_text("was yes")
    expect(changes.nth(1)).to_contain_text("Press")
    phone.screenshot(path=artifacts / "family-review-390.png", full_page=True)
    phone.get_by_role("button", name="Confirm and save").click()
    expect(phone.get_by_role("status")).to_contain_text("Thank you, your answers are saved.")

    phone.get_by_role("link", name="My children").first.click()
    expect(phone).to_have_url(f"{base}/family")
    newsletter = noah.locator("li", has_text="Newsletter and print")
    expect(newsletter.locator(".badge")).to_have_text("No")
    expect(newsletter).to_contain_text("Refused by guardian Ann Peeters")

    noah.get_by_role("link", name="Earlier answers").click()
    expect(phone.get_by_role("heading", name="Earlier answers", level=1)).to_be_visible()
    expect(phone.get_by_role("heading", name="Lotte Peeters")).to_have_count(0)
    rows = phone.locator("tbody tr", has_text="Newsletter and print")
    expect(rows.first.locator(".badge")).to_have_text("No")  # the newest first
    assert_no_horizontal_scroll(phone)
    phone.screenshot(path=artifacts / "family-history-390.png", full_page=True)

    phone.get_by_role("link", name="My children").first.click()
    with phone.expect_download() as download:
        noah.get_by_role("link", name="Form to print (PDF)").click()
    data = download.value.path().read_bytes()
    text = pages_text(data)[0]
    assert "Noah Peeters" in text and "The ticks show the answers of Ann Peeters" in text
    answers = dict(
        re.findall(r"(Newsletter and print|Press)\b.*?Your answer on record: (\w+)", text)
    )
    assert answers == {"Newsletter and print": "no", "Press": "yes"}

    phone.get_by_role("link", name="Change my password").click()
    expect(phone.get_by_role("heading", name="Change your password")).to_be_visible()
    expect(phone.get_by_label("Current password")).to_be_visible()
    phone.context.close()
