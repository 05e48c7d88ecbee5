"""The admin's control on the staff child page: protect a child (confirm first), or lift it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentAdmin
from consentlens.core.db import SessionDep
from consentlens.core.ids import Id
from consentlens.core.pages import found_or_404, see_other
from consentlens.core.templating import render
from consentlens.people import children, protection
from consentlens.people.page_helpers import CSRF, Text

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.post("/staff/children/{child_id}/protect", dependencies=CSRF)
@router.post("/staff/children/{child_id}/unprotect", dependencies=CSRF)
def child_protect(
    request: Request,
    session: SessionDep,
    principal: CurrentAdmin,
    child_id: Id,
    reason: Text = "",
    confirmed: Text = "",
) -> Response:
    """Without `confirmed` the confirmation page; with it the change, then the child page."""
    child = found_or_404(
        children.get_child(session=session, organisation=principal.organisation, child_id=child_id)
    )
    protect = request.url.path.endswith("/protect")
    reason = reason.strip()[: protection.REASON_MAX]
    if confirmed != "yes":
        return render(
            request, "people/protect_confirm.html", child=child, protect=protect, reason=reason
        )
    protection.set_child_protected(
        session=session,
        organisation=principal.organisation,
        child=child,
        protected=protect,
        reason=reason,
        actor=principal.user,
        origin=origin_of(request),
    )
    done = "child_protected" if protect else "child_unprotected"
    return see_other(f"/staff/children/{child.id}/edit?done={done}#protection")
