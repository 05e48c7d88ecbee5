"""Pages where guardians (and children with their own link) give, change and withdraw consent."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.audit.service import origin_of
from consentlens.auth import links, passwords
from consentlens.auth.deps import sign_in
from consentlens.consent import flow, invitations
from consentlens.consent import service as consent
from consentlens.consent.answerer import Answerer, CurrentAnswerer
from consentlens.consent.policy import age_on
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.ids import Id, parse_id
from consentlens.core.pages import not_found, see_other
from consentlens.core.security import verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

# Typed codes are short: refuse to keep guessing from one address.
CODE_FAILURES_PER_HOUR = 20

_PROBLEM_MESSAGES = {
    links.LinkProblem.INVALID: N_("This link is not valid. Check that you copied all of it."),
    links.LinkProblem.EXPIRED: N_("This link has expired. Ask the club for a new one."),
    links.LinkProblem.REVOKED: N_("This link is no longer valid. Ask the club for a new one."),
}


def _open(request: Request, session: Session, check: links.LinkCheck) -> Response:
    if check.problem is not None or check.link is None:
        problem = check.problem or links.LinkProblem.INVALID
        return render(
            request,
            "consent/link_problem.html",
            status_code=404 if problem is links.LinkProblem.INVALID else 410,
            message=_PROBLEM_MESSAGES[problem],
        )
    link = check.link
    owner = links.owner_of(session=session, link=link)
    if not links.opens_session_for(session=session, link=link, user=owner):
        audit.record(
            session=session,
            action="link.refused",
            organisation_id=link.organisation_id,
            actor_id=link.guardian_id,
            subject_type="consent_link",
            subject_id=link.id,
            origin=origin_of(request),
        )
        return render(
            request,
            "consent/link_problem.html",
            status_code=403,
            message=N_(
                "This link cannot open this account. Sign in with your e-mail address and "
                "password instead."
            ),
        )
    now = utcnow()
    links.record_use(session=session, link=link, now=now, origin=origin_of(request))
    # Whoever was signed in before, this browser now holds only a session limited to
    # answering consent for the link's children (see auth/deps.py).
    sign_in(request=request, session=session, now=now, user_id=link.guardian_id, link=link)
    return see_other("/consent")


@router.get("/c/{token}")
def open_link(token: str, request: Request, session: SessionDep) -> Response:
    return _open(request, session, links.check_token(session=session, token=token, now=utcnow()))


@router.get("/code")
def code_form(request: Request) -> Response:
    return render(request, "consent/code.html", code="")


def _code_failures(session: Session, ip: str) -> int:
    return links.count_code_failures(session=session, ip=ip, since=utcnow() - timedelta(hours=1))


@router.post("/code", dependencies=[Depends(verify_csrf)])
def code_submit(
    request: Request, session: SessionDep, code: Annotated[str, Form(max_length=40)] = ""
) -> Response:
    origin = origin_of(request)
    if _code_failures(session, origin.ip) >= CODE_FAILURES_PER_HOUR:
        return render(
            request,
            "consent/code.html",
            status_code=429,
            code=code,
            errors=[N_("Too many wrong codes. Try again in an hour.")],
        )
    check = links.check_code(session=session, code=code, now=utcnow())
    if check.link is None:
        audit.record(session=session, action="link.code_failed", origin=origin)
        return render(
            request,
            "consent/code.html",
            status_code=400,
            code=code,
            errors=[N_("We do not know this code. Check it on the form and try again.")],
        )
    return _open(request, session, check)


def _only(answerer: Answerer, child_id: int | None) -> int | None:
    """The one child a page is narrowed to (from the family home); another family's child, or
    one no longer linked, is the page's 404."""
    if child_id is not None and child_id not in {c.id for c in answerer.children}:
        raise not_found()
    return child_id


def _page_context(session: Session, answerer: Answerer, only: int | None = None) -> dict[str, Any]:
    uses = consent.list_uses(session=session, organisation=answerer.organisation)
    children = [c for c in answerer.children if only is None or c.id == only]
    states = consent.effective_consents(
        session=session,
        organisation=answerer.organisation,
        children=children,
        uses=uses,
        now=utcnow(),
    )
    current = flow.current_answers(
        session=session,
        child_ids=[c.id for c in children if c.id is not None],
        now=utcnow(),
        guardian_id=answerer.guardian.id if answerer.guardian else None,
        by_child=answerer.by_child,
    )
    org = answerer.organisation
    today = utcnow().date()
    ages = {child.id: age_on(birth_date=child.birth_date, day=today) for child in children}
    return {
        "organisation": org,
        "answerer": answerer,
        "children": children,
        "uses": uses,
        "states": states,
        "answers": {
            (cid, use.code): current.get((cid, use.id))
            for cid in ages
            for use in uses
            if cid is not None and use.id is not None
        },
        "ages": ages,
        "field_name": flow.field_name,
        "only": only,
    }


@router.get("/consent")
def answer_page(
    request: Request, session: SessionDep, answerer: CurrentAnswerer, child: Id | None = None
) -> Response:
    """The answers of every child, or (`child`, from the family home) of one of them."""
    context = _page_context(session, answerer, _only(answerer, child))
    return render(request, "consent/answer.html", **context)


def _changes(session: Session, answerer: Answerer, choices: list[flow.Choice]) -> list[flow.Change]:
    uses = {
        u.code: u for u in consent.list_uses(session=session, organisation=answerer.organisation)
    }
    children = {c.id: c for c in answerer.children if c.id is not None}
    current = flow.current_answers(
        session=session,
        child_ids=list(children),
        now=utcnow(),
        guardian_id=answerer.guardian.id if answerer.guardian else None,
        by_child=answerer.by_child,
        min_valid_until=consent.season_valid_until(answerer.organisation),
    )
    return flow.changes_from(choices=choices, children=children, uses=uses, current=current)


async def _form_dict(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormDict = Annotated[dict[str, str], Depends(_form_dict)]


def _form_choices(
    session: SessionDep, answerer: CurrentAnswerer, form: FormDict
) -> list[flow.Choice]:
    """The answers in the form; a form naming children or uses this person may not answer for
    (a stale page or a forged one) is refused with the error page."""
    uses = consent.list_uses(session=session, organisation=answerer.organisation)
    try:
        return flow.parse_choices(
            form=form,
            child_ids=[c.id for c in answerer.children if c.id is not None],
            use_codes=[u.code for u in uses],
        )
    except flow.ChoiceError:
        raise HTTPException(
            400, N_("This page does not match your children. Reload it and try again.")
        ) from None


FormChoices = Annotated[list[flow.Choice], Depends(_form_choices)]


def _form_only(answerer: Answerer, form: dict[str, str]) -> int | None:
    # The narrowed page is carried through review and back as a hidden field.
    raw = form.get("child")
    if raw is None:
        return None
    child_id = parse_id(raw)
    if child_id is None:
        raise not_found()
    return _only(answerer, child_id)


@router.post("/consent/review", dependencies=[Depends(verify_csrf)])
def review(
    request: Request,
    session: SessionDep,
    answerer: CurrentAnswerer,
    choices: FormChoices,
    form: FormDict,
) -> Response:
    only = _form_only(answerer, form)
    changes = _changes(session, answerer, choices)
    if not changes:
        context = _page_context(session, answerer, only)
        return render(
            request,
            "consent/answer.html",
            status_code=400,
            errors=[N_("You did not change any answer. Choose yes or no, then continue.")],
            **context,
        )
    return render(
        request,
        "consent/review.html",
        organisation=answerer.organisation,
        answerer=answerer,
        changes=changes,
        choices=choices,
        field_name=flow.field_name,
        only=only,
    )


@router.post("/consent/confirm", dependencies=[Depends(verify_csrf)])
def confirm(
    request: Request,
    session: SessionDep,
    answerer: CurrentAnswerer,
    form: FormDict,
    choices: FormChoices,
) -> Response:
    only = _form_only(answerer, form)
    if form.get("action") == "edit":
        context = _page_context(session, answerer, only)
        context["answers"] = {
            **context["answers"],
            **{(c.child_id, c.use_code): c.granted for c in choices},
        }
        return render(request, "consent/answer.html", **context)
    changes = _changes(session, answerer, choices)
    now = utcnow()
    origin = origin_of(request)
    try:
        flow.apply_changes(
            session=session,
            organisation=answerer.organisation,
            changes=changes,
            now=now,
            origin=origin,
            guardian=answerer.guardian,
            by_child=answerer.by_child,
        )
    except consent.ConsentError as error:
        context = _page_context(session, answerer, only)
        return render(
            request, "consent/answer.html", status_code=400, errors=[str(error)], **context
        )
    receipt = "none"
    if answerer.guardian is not None and changes:
        invitations.send_receipt(
            session=session,
            organisation=answerer.organisation,
            guardian=answerer.guardian,
            changes=changes,
            now=now,
            origin=origin,
        )
        receipt = "sent"
    return see_other(f"/consent/done?saved={len(changes)}&receipt={receipt}")


@router.get("/consent/done")
def done(
    request: Request,
    session: SessionDep,
    answerer: CurrentAnswerer,
    saved: int = 0,
    receipt: str = "none",
) -> Response:
    context = _page_context(session, answerer)
    return render(request, "consent/done.html", saved=saved, receipt=receipt, **context)


@router.get("/consent/history")
def own_history(
    request: Request, session: SessionDep, answerer: CurrentAnswerer, child: Id | None = None
) -> Response:
    """This person's own earlier answers, for every child or (`child`) for one of them."""
    only = _only(answerer, child)
    guardian_id = answerer.guardian.id if answerer.guardian else None
    entries = [
        (
            member,
            [
                e
                for e in consent.history(session=session, child=member, guardian_id=guardian_id)
                if guardian_id is not None or e.decision.party == "child"
            ],
        )
        for member in answerer.children
        if only is None or member.id == only
    ]
    return render(
        request,
        "consent/history.html",
        organisation=answerer.organisation,
        answerer=answerer,
        entries=entries,
        only=only,
        tz=answerer.organisation.timezone,
    )


@router.post("/consent/password-link", dependencies=[Depends(verify_csrf)])
def password_link(request: Request, session: SessionDep, answerer: CurrentAnswerer) -> Response:
    """Someone who came in by a link asks for a password: the link to choose one goes to the
    account's own address, never to this browser."""
    if answerer.guardian is None:
        return see_other("/consent")
    sent = passwords.request_reset(
        session=session, email=answerer.guardian.email, now=utcnow(), origin=origin_of(request)
    )
    return render(
        request,
        "auth/forgot.html",
        status_code=200 if sent else 429,
        email=answerer.guardian.email,
        sent=sent,
        errors=[] if sent else [N_("Too many requests. Try again in an hour.")],
    )
