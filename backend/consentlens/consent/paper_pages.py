"""Staff pages for paper consent forms: copying in a signed form with its scan, and the scan."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.consent import evidence, held_scans, paper, staff
from consentlens.consent import service as consent
from consentlens.consent.pages import child_of
from consentlens.consent.policy import age_on
from consentlens.core.config import get_settings
from consentlens.core.db import SessionDep
from consentlens.core.ids import Id
from consentlens.core.pages import found_or_404, not_found, see_other
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render
from consentlens.people.models import Child

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]


def _paper_form(
    request: Request,
    session: Session,
    principal: Principal,
    child: Child,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
    held_scan: str = "",
    held_size: int = 0,
) -> Response:
    organisation = principal.organisation
    today = utcnow().astimezone(ZoneInfo(organisation.timezone)).date()
    guardians = staff.guardians_of_child(session=session, child=child)
    child_may_sign = age_on(birth_date=child.birth_date, day=today) >= organisation.co_consent_age
    if values is None:
        values = {"signed_on": today.isoformat()}
        if len(guardians) == 1 and not child_may_sign:
            # The only one who can have signed; where the child may sign too, staff choose.
            values["signer"] = str(guardians[0][0].id)
    return render(
        request,
        "consent/paper.html",
        status_code=status_code,
        errors=errors or [],
        child=child,
        organisation=organisation,
        uses=consent.list_uses(session=session, organisation=organisation),
        guardians=guardians,
        child_may_sign=child_may_sign,
        values=values,
        today=today.isoformat(),
        held_scan=held_scan,
        held_size=held_size,
    )


@router.get("/staff/children/{child_id}/paper")
def paper_form(
    request: Request, session: SessionDep, principal: CurrentStaff, child_id: Id
) -> Response:
    return _paper_form(request, session, principal, child_of(session, principal, child_id))


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
    # A plain function: it runs in the thread pool, so reading the scan and writing the
    # decisions (and re-judging photos) never hold up the event loop and every other request.
    child = child_of(session, principal, child_id)
    organisation = principal.organisation
    uses = consent.list_uses(session=session, organisation=organisation)
    now = utcnow()
    # One byte past the limit is enough to tell that the scan is too large.
    data = scan.file.read(get_settings().evidence_max_bytes + 1) if scan is not None else b""
    assert organisation.id is not None and child.id is not None
    held = {"organisation_id": organisation.id, "child_id": child.id}
    token = values.get("held_scan", "")
    if not data and token:
        data = held_scans.read(token=token, **held)
    elif token:
        held_scans.release(token=token, **held)  # a new scan replaces the one held
        token = ""
    try:
        form = paper.read_paper_form(
            values=values,
            uses=uses,
            guardians=[user for user, _ in staff.guardians_of_child(session=session, child=child)],
            birth_date=child.birth_date,
            today=now.astimezone(ZoneInfo(organisation.timezone)).date(),
            scan=data,
        )
        saved = paper.record_paper_form(
            session=session,
            organisation=organisation,
            child=child,
            uses=uses,
            form=form,
            recorded_by=principal.user,
            now=now,
            origin=origin_of(request),
        )
    except paper.PaperFormError as error:
        if data and not token and _keepable(data):
            token = held_scans.hold(data=data, **held)
        return _paper_form(
            request,
            session,
            principal,
            child,
            status_code=400,
            errors=error.messages,
            values=values,
            held_scan=token if data else "",
            held_size=len(data) if token else 0,
        )
    if token:
        held_scans.release(token=token, **held)
    return see_other(f"/staff/children/{child.id}?saved={saved}")


def _keepable(data: bytes) -> bool:
    """Whether the scan itself was fine (so only the rest of the form needs correcting)."""
    try:
        evidence.inspect_scan(data)
    except evidence.EvidenceError:
        return False
    return True


@router.get("/staff/evidence/{decision_id}")
def evidence_file(
    request: Request, session: SessionDep, principal: CurrentStaff, decision_id: Id
) -> Response:
    organisation = principal.organisation
    assert organisation.id is not None  # the signed-in staff member's, read from the database
    decision = found_or_404(
        consent.get_decision(session=session, organisation=organisation, decision_id=decision_id)
    )
    scan = evidence.read_scan(
        reference=decision.evidence_ref or "", organisation_id=organisation.id
    )
    if scan is None:
        raise not_found()
    audit.record(
        session=session,
        action="evidence.downloaded",
        organisation_id=organisation.id,
        actor_id=principal.user.id,
        subject_type="consent_decision",
        subject_id=decision.id,
        origin=origin_of(request),
    )
    filename = f"consent-{decision.child_id}-{decision.id}.{scan.extension}"
    return Response(
        scan.data,
        media_type=evidence.MEDIA_TYPES[scan.extension],
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )
