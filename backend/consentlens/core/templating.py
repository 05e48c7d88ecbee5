"""Jinja2 pages with gettext translations chosen per request."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from consentlens.core.config import LOCALES, get_settings
from consentlens.core.i18n import LOCALE_NAMES, choose_locale, get_translations
from consentlens.core.security import CSRF_FIELD, csrf_token

FRONTEND_DIR = Path(__file__).resolve().parents[3] / "frontend"
TEMPLATES_DIR = FRONTEND_DIR / "templates"
STATIC_DIR = FRONTEND_DIR / "static"
LOCALE_COOKIE = "lang"


@pass_context
def _gettext(context: Context, message: str) -> str:
    return context["translations"].gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return context["translations"].ngettext(singular, plural, n)


def _make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The catalog is looked up in the render context, so one environment serves every language.
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


def localdate(moment: datetime, timezone: str) -> str:
    """A stored UTC moment as the organisation's local date (ISO, unambiguous in every language)."""
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


def lastday(moment: datetime, timezone: str) -> str:
    """The last local day on which something ending at `moment` (exclusive) still holds."""
    return localdate(moment - timedelta(microseconds=1), timezone)


def localtime(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


@pass_context
def spoken_date(context: Context, day: date | str) -> str:
    """A date in a sentence, as the page's language writes it ("1 december 2026", "1 décembre
    2026", "December 1, 2026"); tables keep ISO dates, which sort and scan."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return format_date(day, format="long", locale=context["locale"])


environment = _make_environment()
environment.filters["localdate"] = localdate
environment.filters["localtime"] = localtime
environment.filters["lastday"] = lastday
environment.filters["spoken_date"] = spoken_date


def request_locale(request: Request) -> str:
    """The language to answer in, remembered on the request once chosen."""
    cached = getattr(request.state, "locale", None)
    if cached:
        return cached
    # The viewer holds plain values: error pages render after the database session has ended.
    viewer = getattr(request.state, "viewer", None)
    default = viewer.default_locale if viewer else get_settings().default_locale
    locale = choose_locale(
        cookie=request.cookies.get(LOCALE_COOKIE),
        user_locale=viewer.locale if viewer else None,
        accept_language=request.headers.get("accept-language", ""),
        default=default,
    )
    request.state.locale = locale
    return locale


def prefer_locale(*, request: Request, locale: str | None) -> None:
    """Answer in this language (e.g. the account's, on a page opened from its e-mail) unless the
    browser chose one with the language switch."""
    if locale in LOCALES and not request.cookies.get(LOCALE_COOKIE):
        request.state.locale = locale


def remember_locale(*, response: Response, locale: str) -> None:
    """Keep answering this browser in `locale` (the language switch's cookie)."""
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=365 * 24 * 3600,
        samesite="lax",
        secure=get_settings().is_production,
        httponly=True,
    )


def render_text(name: str, *, locale: str, **context: Any) -> str:
    """Render a plain-text template (e-mail) in a given language."""
    return environment.get_template(name).render(
        locale=locale, translations=get_translations(locale), **context
    )


def render(
    request: Request,
    name: str,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a page in the request's language, with the CSRF token and the signed-in user."""
    locale = request_locale(request)
    translations = get_translations(locale)
    context.setdefault("errors", [])
    html = environment.get_template(name).render(
        request=request,
        locale=locale,
        locales=[(code, LOCALE_NAMES[code]) for code in LOCALES],
        translations=translations,
        principal=getattr(request.state, "viewer", None),
        csrf_field=CSRF_FIELD,
        csrf_token=csrf_token(request),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Content-Language"] = locale
    return response
