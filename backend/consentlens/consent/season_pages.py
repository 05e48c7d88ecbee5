"""The admin page that starts a new season, and optionally asks every family to renew."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentAdmin
from consentlens.auth.models import User
from consentlens.consent import invitations, season
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render
from consentlens.people import children as child_service
from consentlens.people.models import Child

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]


@router.get("/staff/season")
def season_page(request: Request, session: SessionDep, principal: CurrentAdmin) -> Response:
    organisation = principal.organisation
    proposal = organisation.season_end.replace(year=organisation.season_end.year + 1)
    return render(
        request,
        "consent/season.html",
        organisation=organisation,
        new_end=proposal.isoformat(),
        done=None,
    )


@router.post("/staff/season", dependencies=CSRF)
def season_submit(
    request: Request,
    session: SessionDep,
    principal: CurrentAdmin,
    new_end: Annotated[str, Form()] = "",
    send: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    """First a confirmation step (what changes, who is mailed), then the change itself."""
    organisation = principal.organisation
    now = utcnow()
    mailing = send == "yes"
    try:
        end = date.fromisoformat(new_end)
        season.check_new_end(organisation=organisation, new_end=end, today=now.date())
    except ValueError as error:
        message = (
            str(error)
            if isinstance(error, season.SeasonError)
            else N_("Fill in the last day of the new season.")
        )
        return render(
            request,
            "consent/season.html",
            status_code=400,
            errors=[message],
            organisation=organisation,
            new_end=new_end,
            done=None,
        )
    recipients: dict[int, tuple[User, list[Child]]] = {}
    if mailing:
        children = child_service.list_children(session=session, organisation=organisation)
        recipients = invitations.guardians_of(session=session, children=children)
    if confirmed != "yes":
        return render(
            request,
            "consent/season_confirm.html",
            organisation=organisation,
            new_end=end,
            mailing=mailing,
            recipients=list(recipients.values()),
        )
    previous = season.start_new_season(
        session=session,
        organisation=organisation,
        new_end=end,
        actor=principal.user,
        now=now,
        origin=origin_of(request),
    )
    result = invitations.SendResult()
    if mailing:
        result = invitations.send_links(
            session=session,
            organisation=organisation,
            recipients=recipients,
            purpose="renewal",
            actor=principal.user,
            now=now,
            origin=origin_of(request),
            extra={"previous_end": previous.isoformat()},
        )
    return render(
        request,
        "consent/season.html",
        organisation=organisation,
        new_end=end.isoformat(),
        done={
            "previous": previous,
            "recipients": result.recipients,
            "held_back": result.held_back,
        },
    )
