"""Admin page for the organisation's consent rules (ages, both guardians, blur or hide)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentAdmin, Principal
from consentlens.consent import service as consent
from consentlens.core.db import SessionDep
from consentlens.core.pages import see_other
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render
from consentlens.publishing import rules

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    values: Mapping[str, str] | None = None,
    problems: list[rules.RulesProblem] | None = None,
    saved: int | None = None,
) -> Response:
    organisation = principal.organisation
    uses = consent.list_uses(session=session, organisation=organisation, photos_only=True)
    current = rules.current_rules(organisation=organisation, uses=uses)
    shown = values or {
        "co_consent_age": str(current.co_consent_age),
        "sole_consent_age": str(current.sole_consent_age),
        "require_all_guardians": "yes" if current.require_all_guardians else "",
        **{f"action_{code}": action for code, action in current.actions.items()},
    }
    return render(
        request,
        "publishing/rules.html",
        status_code=400 if problems else 200,
        organisation=organisation,
        uses=uses,
        values=shown,
        errors=[p.message for p in problems or []],
        invalid={p.field for p in problems or []},
        saved=saved,
        max_age=rules.MAX_AGE,
    )


@router.get("/admin/rules")
def rules_page(
    request: Request, session: SessionDep, principal: CurrentAdmin, saved: int | None = None
) -> Response:
    return _page(request, session, principal, saved=saved)


async def _form_values(request: Request) -> dict[str, str]:
    """The form's text fields (one blur-or-hide field per use); FastAPI has parsed the
    size-limited form already, this only reads it."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/admin/rules", dependencies=CSRF)
def rules_submit(
    request: Request,
    session: SessionDep,
    principal: CurrentAdmin,
    form: Annotated[dict[str, str], Depends(_form_values)],
) -> Response:
    organisation = principal.organisation
    uses = consent.list_uses(session=session, organisation=organisation, photos_only=True)
    wanted, problems = rules.parse_rules(form=form, uses=uses)
    if wanted is None:
        return _page(request, session, principal, values=form, problems=problems)
    rejudged = rules.save_rules(
        session=session,
        organisation=organisation,
        uses=uses,
        rules=wanted,
        user=principal.user,
        now=utcnow(),
        origin=origin_of(request),
    )
    return see_other(f"/admin/rules?saved={rejudged}")
