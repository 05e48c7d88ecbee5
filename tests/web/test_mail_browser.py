"""Mailing many parents asks first: who and how many, then a confirmation; the result says to whom.

The live server has no SMTP host: every mail is an .eml file in its var/outbox.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
import time
from collections import Counter

import pytest
from playwright.sync_api import expect

from tests.web.pages import (
    ADMIN,
    DESKTOP,
    PHONE,
    STAFF,
    assert_no_horizontal_scroll,
    new_page,
    sign_in,
)

pytestmark = pytest.mark.browser


@contextlib.contextmanager
def in_english(page, base: str, start: str):
    """Switch the signed-in account to English (the switch is saved on the account), and back."""
    page.goto(base + start)
    original = page.locator("html").get_attribute("lang")
    page.goto(f"{base}/lang/en?next={start}")
    try:
        yield
    finally:
        page.goto(f"{base}/lang/{original}?next=/")


def wait_for_mails(outbox, count: int) -> list[str]:
    """The mails once `count` are there: they leave after the response, so a moment later."""
    deadline = time.monotonic() + 30
    while len(found := mails_to(outbox)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def mails_to(outbox) -> list[str]:
    if not outbox.exists():
        return []
    return sorted(
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["To"]
        for path in outbox.glob("*.eml")
    )


def test_a_group_reminder_shows_who_first_and_then_to_whom(browser, live_server, artifacts):
    outbox = live_server.var / "outbox"
    page = new_page(browser, DESKTOP, locale="en-GB")
    sign_in(page, live_server.url, *STAFF)
    with in_english(page, live_server.url, "/staff/groups/1/consents"):
        remind(page, outbox, artifacts)


def remind(page, outbox, artifacts) -> None:
    page.get_by_role("button", name="Remind parents who did not answer").click()
    heading = page.get_by_role("heading", name=re.compile(r"parents? will get an e-mail"))
    expect(heading).to_be_visible()
    names = page.locator("ul.recipients li")
    count = names.count()
    assert count >= 1
    page.screenshot(path=artifacts / "remind-confirm-1280.png", full_page=True)
    before = mails_to(outbox) if outbox.exists() else []
    # Nothing has left yet.
    page.get_by_role("link", name="Back, send nothing").click()
    assert (mails_to(outbox) if outbox.exists() else []) == before

    page.get_by_role("button", name="Remind parents who did not answer").click()
    recipients = [
        re.search(r"<([^>]+)>", text).group(1)
        for text in page.locator("ul.recipients li").all_inner_texts()
    ]
    page.get_by_role("button", name=re.compile(r"Send \d+ e-mails?")).click()
    expect(page.get_by_role("status")).to_contain_text(
        "on their way" if count > 1 else "on its way"
    )
    table = page.locator("table.mails")
    for address in recipients:
        expect(table).to_contain_text(address)
    page.screenshot(path=artifacts / "remind-done-1280.png", full_page=True)
    after = wait_for_mails(outbox, len(before) + len(recipients))
    assert Counter(after) - Counter(before) == Counter(recipients)


def test_a_new_season_is_confirmed_before_it_starts_and_mails(browser, own_server, artifacts):
    # Its own club: a new season changes what every other test's club would ask parents.
    outbox = own_server.var / "outbox"
    page = new_page(browser, PHONE, locale="en-GB")
    sign_in(page, own_server.url, *ADMIN)
    with in_english(page, own_server.url, "/staff/season"):
        new_season(page, outbox, artifacts)


def new_season(page, outbox, artifacts) -> None:
    current = page.locator("section.card p").first.inner_text()
    page.get_by_role("button", name="Next: check before starting").click()
    expect(page.get_by_role("heading", name=re.compile("check before you confirm"))).to_be_visible()
    expect(page.get_by_text("answers given so far stay valid until")).to_be_visible()
    # Dates in sentences are written out in the page's language, not ISO.
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page.locator("section.card").inner_text())
    assert_no_horizontal_scroll(page)
    page.screenshot(path=artifacts / "season-confirm-390.png", full_page=True)
    parents = page.locator("ul.recipients li").count()
    assert parents >= 1
    before = len(mails_to(outbox)) if outbox.exists() else 0
    page.get_by_role("link", name="Back, change nothing").click()
    # Nothing changed: the same season, no mail.
    assert page.locator("section.card p").first.inner_text() == current
    assert (len(mails_to(outbox)) if outbox.exists() else 0) == before

    page.get_by_role("button", name="Next: check before starting").click()
    page.get_by_role("button", name=re.compile(r"Start the season and mail \d+ parents?")).click()
    expect(page.get_by_role("status")).to_contain_text("on their way")
    expect(page.locator("ul.recipients li")).to_have_count(parents)
    page.screenshot(path=artifacts / "season-done-390.png", full_page=True)
    assert len(wait_for_mails(outbox, before + parents)) == before + parents
