"""Translations: complete catalogs, and the language chosen per request and remembered."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from consentlens.auth.models import Role
from consentlens.core.i18n import LOCALES_DIR, choose_locale, parse_accept_language
from tests import factories
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]


def _extracted() -> set[str]:
    method_map = [
        ("backend/**.py", "python"),
        ("frontend/templates/**.html", "jinja2"),
        ("frontend/templates/**.txt", "jinja2"),
    ]
    options = {
        "frontend/templates/**.html": {"extensions": "jinja2.ext.i18n"},
        "frontend/templates/**.txt": {"extensions": "jinja2.ext.i18n"},
    }
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    ids: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, options_map=options, keywords=keywords
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


@pytest.mark.parametrize("locale", ["nl", "fr"])
def test_every_marked_string_is_translated(locale):
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string) and not m.fuzzy
    }
    missing = sorted(_extracted() - translated)
    assert missing == [], f"untranslated in {locale}: {missing}"


def test_placeholders_survive_translation():
    for locale in ("nl", "fr"):
        with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            for message in read_po(handle, locale=locale):
                if not message.id or isinstance(message.id, tuple):
                    continue
                for token in ("{name}", "{names}", "{date}", "{age}", "{count}", "{state}"):
                    assert (token in message.id) == (token in message.string), (locale, message.id)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("nl-BE,nl;q=0.9,en;q=0.8", ["nl", "en"]),
        ("fr-BE, en;q=0.5", ["fr", "en"]),
        ("de-DE,de;q=0.9", []),
        ("en;q=0.2, fr;q=0.8", ["fr", "en"]),
        ("fr;q=0", []),
        ("fr;q=oops", []),
        ("", []),
    ],
)
def test_accept_language(header, expected):
    assert parse_accept_language(header) == expected


def test_choice_order():
    assert choose_locale(cookie="fr", user_locale="en", accept_language="nl", default="nl") == "fr"
    assert choose_locale(cookie=None, user_locale="en", accept_language="fr", default="nl") == "en"
    assert choose_locale(cookie="xx", user_locale=None, accept_language="fr", default="nl") == "fr"
    assert choose_locale(cookie=None, user_locale=None, accept_language="de", default="nl") == "nl"


def test_browser_language_is_used_and_the_switch_is_remembered(client):
    assert "Se connecter" in client.get("/login", headers={"accept-language": "fr-BE"}).text
    response = client.get("/lang/en?next=/login")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    page = client.get("/login", headers={"accept-language": "fr-BE"})
    assert '<html lang="en">' in page.text and ">Sign in<" in page.text
    assert page.headers["content-language"] == "en"


def test_the_switch_refuses_unknown_languages_and_foreign_redirects(client):
    assert client.get("/lang/de").status_code == 404
    assert client.get("/lang/nl?next=https://evil.example").headers["location"] == "/"


def test_a_signed_in_users_language_is_used(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF, locale="fr")
    login(client, staff.email, factories.PASSWORD)
    page = client.get("/admin", headers={"accept-language": "nl"})
    assert "Autorisations aujourd'hui" in page.text


def test_a_signed_in_users_switch_is_kept_on_the_account(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF, locale="nl")
    login(client, staff.email, factories.PASSWORD)
    client.get("/lang/fr?next=/admin")
    db.refresh(staff)
    assert staff.locale == "fr"
