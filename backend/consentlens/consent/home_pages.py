"""The admin home and the family home: the members, and how their consent stands."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from consentlens.auth.deps import CurrentGuardian, CurrentStaff
from consentlens.consent import service as consent
from consentlens.consent.policy import ConsentState
from consentlens.core.db import SessionDep
from consentlens.core.tables import utcnow
from consentlens.core.templating import render
from consentlens.people.children import list_children
from consentlens.people.counts import organisation_counts
from consentlens.people.guardians import children_of_guardian

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/admin")
def admin_home(request: Request, session: SessionDep, principal: CurrentStaff) -> Response:
    organisation = principal.organisation
    children = list_children(session=session, organisation=organisation)
    uses = consent.list_uses(session=session, organisation=organisation)
    states = consent.effective_consents(
        session=session, organisation=organisation, children=children, uses=uses, now=utcnow()
    )
    summary = [
        (
            use,
            sum(1 for c in children if states[(c.id, use.code)].state is ConsentState.GRANTED),
            sum(1 for c in children if states[(c.id, use.code)].state is ConsentState.REFUSED),
        )
        for use in uses
    ]
    return render(
        request,
        "admin/home.html",
        organisation=organisation,
        counts=organisation_counts(session=session, organisation=organisation),
        summary=summary,
        total_children=len(children),
    )


@router.get("/family")
def family_home(request: Request, session: SessionDep, principal: CurrentGuardian) -> Response:
    organisation = principal.organisation
    children = children_of_guardian(
        session=session, organisation=organisation, guardian=principal.user
    )
    uses = consent.list_uses(session=session, organisation=organisation)
    states = consent.effective_consents(
        session=session, organisation=organisation, children=children, uses=uses, now=utcnow()
    )
    return render(
        request,
        "family/home.html",
        organisation=organisation,
        children=children,
        uses=uses,
        states=states,
        account_email=principal.user.email,
    )
