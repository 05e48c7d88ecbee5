"""Staff consent pages: group overview, a child's consent and history, invitations, paper forms."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import Session, select

from consentlens.audit import service as audit
from consentlens.audit.service import origin_of
from consentlens.auth import links
from consentlens.auth.deps import CurrentAdmin, CurrentStaff, Principal
from consentlens.auth.models import ConsentLink, User
from consentlens.consent import evidence, invitations, providers, season, staff
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentDecision
from consentlens.consent.policy import age_on
from consentlens.consent.uses import Use
from consentlens.core.config import get_settings
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.ids import Id
from consentlens.core.qr import qr_svg
from consentlens.core.security import verify_csrf
from consentlens.core.templating import render
from consentlens.db.base import utcnow
from consentlens.people import guardian_requests
from consentlens.people import service as people
from consentlens.people.groups import get_group
from consentlens.people.guardians import guardians_by_child
from consentlens.people.models import Child, Group, Guardianship

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]


def _group(session: Session, principal: Principal, group_id: int) -> Group:
    group = get_group(session=session, organisation=principal.organisation, group_id=group_id)
    if group is None:
        raise HTTPException(404, N_("Page not found"))
    return group


def _child(session: Session, principal: Principal, child_id: int) -> Child:
    child = people.get_child(
        session=session, organisation=principal.organisation, child_id=child_id
    )
    if child is None:
        raise HTTPException(404, N_("Page not found"))
    return child


def _guardians(session: Session, child: Child) -> list[tuple[User, str]]:
    assert child.id is not None
    linked = guardians_by_child(session=session, child_ids=[child.id])[child.id]
    return sorted(((user, link.relation) for user, link in linked), key=lambda g: g[0].full_name)


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
    failed: int = 0,
) -> Response:
    group = _group(session, principal, group_id)
    view = staff.overview(
        session=session,
        organisation=principal.organisation,
        group=group,
        now=utcnow(),
        state=state,
        use=use,
        query=q,
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
        failed=failed,
    )


def _send(
    request: Request,
    session: Session,
    principal: Principal,
    children: list[Child],
    purpose: str,
    only_without_answer: bool,
) -> invitations.SendResult:
    now = utcnow()
    if only_without_answer:
        uses = consent.list_uses(session=session, organisation=principal.organisation)
        recipients = invitations.guardians_without_answer(
            session=session,
            organisation=principal.organisation,
            children=children,
            uses=uses,
            now=now,
        )
    else:
        recipients = invitations.guardians_of(session=session, children=children)
    return invitations.send_links(
        session=session,
        organisation=principal.organisation,
        recipients=recipients,
        purpose=purpose,
        actor=principal.user,
        now=now,
        origin=origin_of(request),
    )


@router.post("/staff/groups/{group_id}/invite", dependencies=CSRF)
def invite_group(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    group_id: Id,
    who: Annotated[str, Form()] = "all",
) -> Response:
    group = _group(session, principal, group_id)
    children = people.list_children(
        session=session, organisation=principal.organisation, group_id=group.id
    )
    reminder = who == "unanswered"
    result = _send(
        request,
        session,
        principal,
        children,
        "reminder" if reminder else "invitation",
        only_without_answer=reminder,
    )
    return RedirectResponse(
        f"/staff/groups/{group.id}/consents?sent={len(result.sent)}&failed={len(result.failed)}",
        status_code=303,
    )


@router.get("/staff/children/{child_id}")
def child_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    child_id: Id,
    sent: int | None = None,
    failed: int = 0,
    saved: int | None = None,
    faces: str | None = None,
) -> Response:
    child = _child(session, principal, child_id)
    return render_child_page(
        request, session, principal, child, sent=sent, failed=failed, saved=saved, faces=faces
    )


def render_child_page(
    request: Request,
    session: Session,
    principal: Principal,
    child: Child,
    *,
    status_code: int = 200,
    sent: int | None = None,
    failed: int = 0,
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
    guardians = _guardians(session, child)
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
        active_links=links.active_links(
            session=session, organisation=organisation, now=now, child=child
        ),
        age=age_on(child.birth_date, local_today),
        tz=organisation.timezone,
        sent=sent,
        failed=failed,
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
    child = _child(session, principal, child_id)
    recipients = invitations.guardians_of(session=session, children=[child])
    if guardian_id is not None:
        recipients = {k: v for k, v in recipients.items() if k == guardian_id}
        if not recipients:
            raise HTTPException(404, N_("Page not found"))
    result = invitations.send_links(
        session=session,
        organisation=principal.organisation,
        recipients=recipients,
        purpose="invitation",
        actor=principal.user,
        now=utcnow(),
        origin=origin_of(request),
    )
    return RedirectResponse(
        f"/staff/children/{child.id}?sent={len(result.sent)}&failed={len(result.failed)}",
        status_code=303,
    )


@router.post("/staff/children/{child_id}/child-link", dependencies=CSRF)
def create_child_link(
    request: Request, session: SessionDep, principal: CurrentStaff, child_id: Id
) -> Response:
    child = _child(session, principal, child_id)
    organisation = principal.organisation
    now = utcnow()
    if age_on(child.birth_date, now.astimezone(ZoneInfo(organisation.timezone)).date()) < (
        organisation.co_consent_age
    ):
        raise HTTPException(400, N_("Children get their own link from the co-consent age."))
    link = links.create_link(
        session=session,
        organisation=organisation,
        now=now,
        child=child,
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
        qr=qr_svg(url, 240, title=child.full_name),
        tz=organisation.timezone,
        organisation=organisation,
    )


@router.post("/staff/links/{link_id}/revoke", dependencies=CSRF)
def revoke_link(
    request: Request, session: SessionDep, principal: CurrentStaff, link_id: Id
) -> Response:
    link = session.get(ConsentLink, link_id)
    if link is None or link.organisation_id != principal.organisation.id:
        raise HTTPException(404, N_("Page not found"))
    links.revoke(
        session=session, link=link, actor=principal.user, now=utcnow(), origin=origin_of(request)
    )
    back = (
        link.child_id
        or session.exec(
            select(Guardianship.child_id).where(Guardianship.guardian_id == link.guardian_id)
        ).first()
    )
    return RedirectResponse(f"/staff/children/{back}" if back else "/admin", status_code=303)


def _paper_form(
    request: Request,
    session: Session,
    principal: Principal,
    child: Child,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    organisation = principal.organisation
    today = utcnow().astimezone(ZoneInfo(organisation.timezone)).date()
    return render(
        request,
        "consent/paper.html",
        status_code=status_code,
        errors=errors or [],
        child=child,
        organisation=organisation,
        uses=consent.list_uses(session=session, organisation=organisation),
        guardians=_guardians(session, child),
        child_may_sign=age_on(child.birth_date, today) >= organisation.co_consent_age,
        values=values or {"signed_on": today.isoformat()},
        today=today.isoformat(),
    )


@router.get("/staff/children/{child_id}/paper")
def paper_form(
    request: Request, session: SessionDep, principal: CurrentStaff, child_id: Id
) -> Response:
    return _paper_form(request, session, principal, _child(session, principal, child_id))


def _signed_moment(signed_on: date, tz: str, now: datetime) -> datetime:
    """A paper form carries a date only: take noon that day, but never later than now."""
    return min(datetime.combine(signed_on, time(12, 0), tzinfo=ZoneInfo(tz)), now)


async def _form_values(request: Request) -> dict[str, str]:
    """The form's text fields: one answer per use, named after the use. FastAPI has already
    parsed the (size-limited) form, so this only reads it."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/staff/children/{child_id}/paper", dependencies=CSRF)
def paper_submit(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    child_id: Id,
    values: Annotated[dict[str, str], Depends(_form_values)],
    scan: Annotated[UploadFile | None, File()] = None,
) -> Response:
    # A plain function: it runs in the thread pool, so checking the scan and writing the
    # decisions never hold up the event loop (and every other request with it).
    child = _child(session, principal, child_id)
    organisation = principal.organisation
    uses = consent.list_uses(session=session, organisation=organisation)
    errors: list[str] = []
    signer = values.get("signer", "")
    guardian: User | None = None
    if signer.isdigit():
        guardian = next((u for u, _ in _guardians(session, child) if u.id == int(signer)), None)
    if guardian is None and signer != "child":
        errors.append(N_("Choose who signed the form."))
    try:
        signed_on = date.fromisoformat(values.get("signed_on", ""))
    except ValueError:
        signed_on = None
        errors.append(N_("Fill in the date the form was signed."))
    today = utcnow().astimezone(ZoneInfo(organisation.timezone)).date()
    # Checked here, not only by the service: a later date would be moved to now without a word.
    if signed_on is not None and signed_on > today:
        errors.append(N_("The date signed cannot be in the future."))
    if signed_on is not None and signed_on < child.birth_date:
        errors.append(N_("The date signed cannot be before the child's date of birth."))
    answers = {u.code: values.get(f"use-{u.code}", "") for u in uses}
    if not any(answer in ("yes", "no") for answer in answers.values()):
        errors.append(N_("Tick yes or no for at least one use, as on the form."))
    # One byte past the limit is enough to tell that the scan is too large.
    data = scan.file.read(get_settings().evidence_max_bytes + 1) if scan is not None else b""
    if not data:
        errors.append(N_("Add the scan or photo of the signed form."))
    if errors:
        return _paper_form(
            request, session, principal, child, status_code=400, errors=errors, values=values
        )
    assert signed_on is not None and organisation.id is not None
    now = utcnow()
    try:
        reference = evidence.store_scan(session=session, data=data, organisation_id=organisation.id)
    except evidence.EvidenceError as error:
        return _paper_form(
            request, session, principal, child, status_code=400, errors=[str(error)], values=values
        )
    decided_at = _signed_moment(signed_on, organisation.timezone, now)
    saved = 0
    try:
        for use in uses:
            if answers[use.code] not in ("yes", "no"):
                continue
            consent.record_decision(
                session=session,
                organisation=organisation,
                child=child,
                use=use,
                granted=answers[use.code] == "yes",
                method="paper",
                now=now,
                guardian=guardian,
                by_child=guardian is None,
                recorded_by=principal.user,
                decided_at=decided_at,
                evidence_ref=reference,
                origin=origin_of(request),
            )
            saved += 1
    except consent.ConsentError as error:
        # The rollback removes the scan as well (evidence.store_scan).
        session.rollback()
        return _paper_form(
            request, session, principal, child, status_code=400, errors=[str(error)], values=values
        )
    return RedirectResponse(f"/staff/children/{child.id}?saved={saved}", status_code=303)


@router.get("/staff/evidence/{decision_id}")
def evidence_file(
    request: Request, session: SessionDep, principal: CurrentStaff, decision_id: Id
) -> Response:
    decision = session.get(ConsentDecision, decision_id)
    child = session.get(Child, decision.child_id) if decision else None
    if decision is None or child is None or child.organisation_id != principal.organisation.id:
        raise HTTPException(404, N_("Page not found"))
    path = evidence.scan_path(
        decision.evidence_ref or "", organisation_id=principal.organisation.id
    )
    if path is None:
        raise HTTPException(404, N_("Page not found"))
    audit.record(
        session=session,
        action="evidence.downloaded",
        organisation_id=principal.organisation.id,
        actor_id=principal.user.id,
        subject_type="consent_decision",
        subject_id=decision.id,
        origin=origin_of(request),
    )
    extension = path.suffix.lstrip(".")
    return FileResponse(
        path,
        media_type=evidence.MEDIA_TYPES[extension],
        filename=f"consent-{child.id}-{decision.id}.{extension}",
        headers={"Cache-Control": "private, no-store"},
    )


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
) -> Response:
    organisation = principal.organisation
    try:
        end = date.fromisoformat(new_end)
        previous = season.start_new_season(
            session=session,
            organisation=organisation,
            new_end=end,
            actor=principal.user,
            now=utcnow(),
            origin=origin_of(request),
        )
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
    result = invitations.SendResult()
    if send == "yes":
        children = people.list_children(session=session, organisation=organisation)
        recipients = invitations.guardians_of(session=session, children=children)
        result = invitations.send_links(
            session=session,
            organisation=organisation,
            recipients=recipients,
            purpose="renewal",
            actor=principal.user,
            now=utcnow(),
            origin=origin_of(request),
            extra={"previous_end": previous.isoformat()},
        )
    return render(
        request,
        "consent/season.html",
        organisation=organisation,
        new_end=end.isoformat(),
        done={"previous": previous, "sent": len(result.sent), "failed": len(result.failed)},
    )
