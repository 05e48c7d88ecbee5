"""Translations: gettext catalogs (nl, fr, en) read from frontend/locales, and locale choice."""

from __future__ import annotations

import gettext as gettext_module
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from consentlens.core.config import LOCALES

LOCALES_DIR = Path(__file__).resolve().parents[3] / "frontend" / "locales"
DOMAIN = "messages"
LOCALE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English"}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@lru_cache
def get_translations(locale: str) -> gettext_module.NullTranslations:
    """The catalog of a locale, compiled in memory from its .po file (no build step)."""
    po_path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if locale not in LOCALES or not po_path.exists():
        return gettext_module.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def parse_accept_language(header: str) -> list[str]:
    """Supported locales from an Accept-Language header, best first."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in LOCALES and quality > 0:
            weighted.append((-quality, position, language))
    seen: list[str] = []
    for _, _, language in sorted(weighted):
        if language not in seen:
            seen.append(language)
    return seen


def choose_locale(
    *, cookie: str | None, user_locale: str | None, accept_language: str, default: str
) -> str:
    """An explicit choice wins, then the account's language, the browser's, the default."""
    for candidate in (cookie, user_locale):
        if candidate in LOCALES:
            return candidate
    preferred = parse_accept_language(accept_language)
    return preferred[0] if preferred else default
