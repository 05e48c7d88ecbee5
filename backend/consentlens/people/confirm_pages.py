"""Where an account holder confirms (or declines) that they are a guardian of a child of a club
that is not (yet) theirs. The link came to their own address; it opens no session."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from consentlens.audit.service import origin_of
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.tables import utcnow
from consentlens.core.templating import prefer_locale, render
from consentlens.people import guardian_requests
from consentlens.people.models import PendingGuardianship
from consentlens.people.page_helpers import CSRF

router = APIRouter(tags=["pages"], include_in_schema=False)


def _gone(request: Request) -> Response:
    return render(
        request,
        "consent/link_problem.html",
        status_code=410,
        message=N_("This request has expired or was already answered."),
    )


def _context(request: Request, session: SessionDep, pending: PendingGuardianship) -> dict[str, Any]:
    parties = guardian_requests.parties_of(session=session, pending=pending)
    # Opened from the e-mail: in the account's own language, where it chose one.
    prefer_locale(request=request, locale=parties.account.locale)
    return {
        "organisation": parties.organisation,
        "child": parties.child,
        "account": parties.account,
    }


def _page(
    request: Request,
    token: str,
    context: dict[str, Any],
    *,
    answered: str | None = None,
    status_code: int = 200,
    errors: list[str] | None = None,
) -> Response:
    """The request page: the question, or (once `answered`) what the holder answered."""
    return render(
        request,
        "people/guardian_request.html",
        status_code=status_code,
        token=token,
        answered=answered,
        errors=errors or [],
        **context,
    )


@router.get("/guardian-requests/{token}")
def request_page(request: Request, session: SessionDep, token: str) -> Response:
    pending = guardian_requests.get_by_token(session=session, token=token, now=utcnow())
    if pending is None:
        return _gone(request)
    return _page(request, token, _context(request, session, pending))


@router.post("/guardian-requests/{token}", dependencies=CSRF)
def request_answer(
    request: Request,
    session: SessionDep,
    token: str,
    decision: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    pending = guardian_requests.get_by_token(session=session, token=token, now=utcnow())
    if pending is None:
        return _gone(request)
    # Read before answering: a confirmed request is gone afterwards.
    context = _context(request, session, pending)
    if decision not in ("confirm", "decline"):
        errors = [N_("Choose one of the two buttons.")]
        return _page(request, token, context, status_code=400, errors=errors)
    guardian_requests.answer(
        session=session,
        pending=pending,
        confirmed=decision == "confirm",
        origin=origin_of(request),
    )
    return _page(request, token, context, answered=decision)
