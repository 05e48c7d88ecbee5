"""Staff consent pages: a group's overview and invitations, a child's consent, history and links.

Paper forms are in `paper_pages`, the new season in `season_pages`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.audit.service import origin_of
from consentlens.auth import links
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.auth.models import User
from consentlens.consent import invitations, providers, staff
from consentlens.consent import service as consent
from consentlens.consent.policy import age_on
from consentlens.consent.uses import Use
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.ids import Id
from consentlens.core.pages import found_or_404, not_found, see_other
from consentlens.core.qr import qr_svg
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render
from consentlens.outbox import service as outbox
from consentlens.people import children as child_service
from consentlens.people import guardian_requests, guardianships
from consentlens.people.groups import get_group
from consentlens.people.models import Child, Group

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]
MAILS_SHOWN_FOR = timedelta(days=14)


def _group(session: Session, principal: Principal, group_id: int) -> Group:
    return found_or_404(
        get_group(session=session, organisation=principal.organisation, group_id=group_id)
    )


def child_of(session: Session, principal: Principal, child_id: int) -> Child:
    """The child of the staff member's organisation, or the page's 404."""
    return found_or_404(
        child_service.get_child(
            session=session, organisation=principal.organisation, child_id=child_id
        )
    )


@router.get("/staff/groups/{group_id}/consents")
def group_overview(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    group_id: Id,
    state: str = "all",
    use: str = "any",
    q: str = "",
    sent: int | None = None,
    skipped: int = 0,
) -> Response:
    group = _group(session, principal, group_id)
    filters = staff.OverviewFilter(state=state, use=use, query=q)
    view = staff.overview(
        session=session,
        organisation=principal.organisation,
        group=group,
        now=utcnow(),
        filters=filters,
    )
    return render(
        request,
        "consent/overview.html",
        view=view,
        state=state,
        use=use,
        q=q,
        state_filters=staff.STATE_FILTERS,
        organisation=principal.organisation,
        sent=sent,
        skipped=skipped,
        mails=_recent_mails(
            session,
            principal,
            child_service.list_children(
                session=session, organisation=principal.organisation, group_id=group.id
            ),
        ),
    )


def _recent_mails(
    session: Session, principal: Principal, children: list[Child]
) -> list[outbox.MailStatus]:
    """The last fortnight's mails to these children's guardians: to whom, and whether they left."""
    guardians = invitations.guardians_of(session=session, children=children)
    assert principal.organisation.id is not None
    return outbox.recent(
        session=session,
        organisation_id=principal.organisation.id,
        recipients=[guardian.email for guardian, _ in guardians.values()],
        since=utcnow() - MAILS_SHOWN_FOR,
    )


def _recipients(
    session: Session,
    principal: Principal,
    children: list[Child],
    only_without_answer: bool,
    now: datetime,
) -> dict[int, tuple[User, list[Child]]]:
    if only_without_answer:
        uses = consent.list_uses(session=session, organisation=principal.organisation)
        recipients = invitations.guardians_without_answer(
            session=session,
            organisation=principal.organisation,
            children=children,
            uses=uses,
            now=now,
        )
        return recipients
    return invitations.guardians_of(session=session, children=children)


@router.post("/staff/groups/{group_id}/invite", dependencies=CSRF)
def invite_group(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    group_id: Id,
    who: Annotated[str, Form()] = "all",
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    """Who would be mailed, to confirm; then the mails (queued with this request's commit)."""
    group = _group(session, principal, group_id)
    children = child_service.list_children(
        session=session, organisation=principal.organisation, group_id=group.id
    )
    reminder = who == "unanswered"
    now = utcnow()
    recipients = _recipients(session, principal, children, reminder, now)
    if confirmed != "yes":
        return render(
            request,
            "consent/invite_confirm.html",
            group=group,
            who="unanswered" if reminder else "all",
            recipients=list(recipients.values()),
        )
    result = invitations.send_links(
        session=session,
        organisation=principal.organisation,
        recipients=recipients,
        purpose="reminder" if reminder else "invitation",
        actor=principal.user,
        now=now,
        origin=origin_of(request),
    )
    counts = f"sent={len(result.recipients)}&skipped={len(result.held_back)}"
    return see_other(f"/staff/groups/{group.id}/consents?{counts}")


@router.get("/staff/children/{child_id}")
def child_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    child_id: Id,
    sent: int | None = None,
    saved: int | None = None,
    faces: str | None = None,
) -> Response:
    child = child_of(session, principal, child_id)
    return render_child_page(
        request, session, principal, child, sent=sent, saved=saved, faces=faces
    )


def render_child_page(
    request: Request,
    session: Session,
    principal: Principal,
    child: Child,
    *,
    status_code: int = 200,
    sent: int | None = None,
    skipped: int = 0,
    saved: int | None = None,
    faces: str | None = None,
    face_error: tuple[str, dict[str, str]] | None = None,
) -> Response:
    """The staff page of a child; `faces` names a reference-face notice, `face_error` a refusal."""
    assert child.id is not None
    organisation = principal.organisation
    uses = consent.list_uses(session=session, organisation=organisation)
    now = utcnow()
    states = consent.effective_consents(
        session=session, organisation=organisation, children=[child], uses=uses, now=now
    )
    local_today = now.astimezone(ZoneInfo(organisation.timezone)).date()
    guardians = staff.guardians_of_child(session=session, child=child)
    recognition = states.get((child.id, Use.FACE_RECOGNITION))
    return render(
        request,
        "consent/child.html",
        status_code=status_code,
        child=child,
        organisation=organisation,
        uses=uses,
        states=states,
        guardians=guardians,
        guardian_names={user.id: user.full_name for user, _ in guardians},
        history=consent.history(session=session, child=child),
        active_links=guardianships.active_links(
            session=session, organisation=organisation, now=now, child=child
        ),
        age=age_on(birth_date=child.birth_date, day=local_today),
        tz=organisation.timezone,
        sent=sent,
        skipped=skipped,
        mails=_recent_mails(session, principal, [child]),
        saved=saved,
        pending_guardians=guardian_requests.list_pending(session=session, child=child, now=now),
        # Archived children are never recognised, whatever their consent says.
        may_recognise=bool(recognition and recognition.granted and child.archived_at is None),
        reference_count=providers.reference_count(session=session, child_id=child.id),
        faces_notice=faces if faces in ("added", "deleted") else None,
        face_error=face_error,
    )


@router.post("/staff/children/{child_id}/invite", dependencies=CSRF)
def invite_child_guardians(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    child_id: Id,
    guardian_id: Annotated[Id | None, Form()] = None,
) -> Response:
    child = child_of(session, principal, child_id)
    recipients = invitations.guardians_of(session=session, children=[child])
    if guardian_id is not None:
        recipients = {k: v for k, v in recipients.items() if k == guardian_id}
        if not recipients:
            raise not_found()
    result = invitations.send_links(
        session=session,
        organisation=principal.organisation,
        recipients=recipients,
        purpose="invitation",
        actor=principal.user,
        now=utcnow(),
        origin=origin_of(request),
    )
    counts = f"sent={len(result.recipients)}&skipped={len(result.held_back)}"
    return see_other(f"/staff/children/{child.id}?{counts}")


@router.post("/staff/children/{child_id}/child-link", dependencies=CSRF)
def create_child_link(
    request: Request, session: SessionDep, principal: CurrentStaff, child_id: Id
) -> Response:
    child = child_of(session, principal, child_id)
    organisation = principal.organisation
    now = utcnow()
    if age_on(
        birth_date=child.birth_date, day=now.astimezone(ZoneInfo(organisation.timezone)).date()
    ) < (organisation.co_consent_age):
        raise HTTPException(400, N_("Children get their own link from the co-consent age."))
    link = links.create_link(
        session=session,
        organisation=organisation,
        now=now,
        child_id=child.id,
        created_by=principal.user,
        purpose="child",
    )
    audit.record(
        session=session,
        action="link.child_created",
        organisation_id=organisation.id,
        actor_id=principal.user.id,
        subject_type="child",
        subject_id=child.id,
        details={"link_id": link.id},
        origin=origin_of(request),
    )
    url = links.url_for(link)
    return render(
        request,
        "consent/child_link.html",
        child=child,
        url=url,
        code=links.format_code(link.short_code),
        expires=link.expires_at,
        qr=qr_svg(data=url, size=240, title=child.full_name),
        tz=organisation.timezone,
        organisation=organisation,
    )


@router.post("/staff/links/{link_id}/revoke", dependencies=CSRF)
def revoke_link(
    request: Request, session: SessionDep, principal: CurrentStaff, link_id: Id
) -> Response:
    link = found_or_404(
        links.get_link(session=session, organisation=principal.organisation, link_id=link_id)
    )
    links.revoke(
        session=session, link=link, actor=principal.user, now=utcnow(), origin=origin_of(request)
    )
    back = link.child_id or guardianships.any_child_id(
        session=session, guardian_id=link.guardian_id
    )
    return see_other(f"/staff/children/{back}" if back else "/admin")
