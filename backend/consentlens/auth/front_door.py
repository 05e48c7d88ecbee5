"""The front door and the language switch: routes that depend on who is signed in."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from consentlens.auth.deps import OptionalAnyone, current_auth_session
from consentlens.core.config import LOCALES
from consentlens.core.db import SessionDep
from consentlens.core.errors import safe_next
from consentlens.core.templating import remember_locale

router = APIRouter()


@router.get("/", include_in_schema=False)
def front_door(*, request: Request, session: SessionDep, principal: OptionalAnyone) -> Response:
    row = current_auth_session(request=request, session=session)
    # Any session opened by a link (a guardian's or a child's own) has one place to go.
    if (principal is not None and principal.by_link) or (row is not None and row.link_id):
        return RedirectResponse("/consent", status_code=303)
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/admin" if principal.is_staff else "/family", status_code=303)


@router.get("/lang/{locale}", include_in_schema=False)
def switch_language(
    *, locale: str, session: SessionDep, principal: OptionalAnyone, next: str = "/"
) -> Response:
    """Remember the chosen language (browser cookie, and the account: e-mails follow it)."""
    if locale not in LOCALES:
        raise HTTPException(404, "Unknown language.")
    # A link's limited session changes this browser's language, not the account's.
    if principal is not None and not principal.by_link and principal.user.locale != locale:
        principal.user.locale = locale
        session.add(principal.user)
    response = RedirectResponse(safe_next(target=next), status_code=303)
    remember_locale(response=response, locale=locale)
    return response
