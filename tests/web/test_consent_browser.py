"""A parent consents on a phone in Dutch through the personal link; staff see it in the overview."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from playwright.sync_api import expect

from tests.web.pages import DESKTOP, PHONE, STAFF, new_page, sign_in

pytestmark = pytest.mark.browser


def newest_link(outbox, address: str) -> str:
    for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            body = message.get_body(("plain",)).get_content()
            return re.search(r"https?://\S+/c/\S+", body).group(0)
    raise AssertionError(f"no e-mail to {address} in {outbox}")


def test_parent_consents_on_a_phone_and_staff_see_it(browser, live_server, artifacts):
    staff = new_page(browser, DESKTOP, locale="en-GB")
    sign_in(staff, live_server.url, *STAFF)
    staff.goto(f"{live_server.url}/staff/groups/1/consents")
    lotte = staff.get_by_role("row", name=re.compile("Lotte Peeters"))
    print_cell = lotte.locator("td").nth(2)
    expect(print_cell).to_contain_text("Wacht op antwoord")
    staff.screenshot(path=artifacts / "overview-1280.png", full_page=True)

    staff.get_by_role("link", name="Lotte Peeters").click()
    expect(staff.get_by_role("heading", name="Lotte Peeters", level=1)).to_be_visible()
    bart_row = staff.locator(".people li", has_text="Bart Peeters")
    bart_row.get_by_role("button", name="Link sturen").click()
    expect(staff.get_by_role("status")).to_contain_text("1 e-mail is onderweg")
    staff.screenshot(path=artifacts / "child-1280.png", full_page=True)

    link = newest_link(live_server.var / "outbox", "bart.peeters@demo.consentlens.test")
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
