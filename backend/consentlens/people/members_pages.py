"""Staff pages to manage groups, children and guardians.

Post/redirect/get throughout: a change answers 303 to a page that shows it (with a short notice
named in the query string), bad input re-renders the same form with what was typed and 400.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.auth.models import User
from consentlens.core.config import LOCALES
from consentlens.core.db import SessionDep
from consentlens.core.i18n import LOCALE_NAMES, N_
from consentlens.core.ids import Id
from consentlens.core.security import verify_csrf
from consentlens.core.templating import render
from consentlens.people import groups as group_service
from consentlens.people import guardians as guardian_service
from consentlens.people import service
from consentlens.people.models import Child, Group, Guardianship

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF = [Depends(verify_csrf)]
Text = Annotated[str, Form()]

# Notices after a redirect: only these fixed messages can be shown, whatever the URL says.
NOTICES = {
    "group_created": N_("The group was added."),
    "saved": N_("Your changes were saved."),
    "group_archived": N_("The group was archived. It no longer appears in lists and pickers."),
    "group_restored": N_("The group was restored."),
    "child_created": N_("The child was added. You can now add guardians."),
    "child_archived": N_("The child was archived. They no longer appear in lists."),
    "child_restored": N_("The child was restored."),
    "guardian_linked": N_("The guardian was added."),
    "guardian_asked": N_(
        "This e-mail address already has an account. We have asked its holder by e-mail to "
        "confirm; they appear here once they do."
    ),
    "guardian_removed": N_("The guardian was removed from this child."),
    "guardian_archived": N_("The guardian was removed from all children of this organisation."),
}


def _notice(done: str | None) -> str | None:
    return NOTICES.get(done or "")


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, N_("This page does not exist."))


def _parse_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


# --- groups -----------------------------------------------------------------------------------


def _group_or_404(session: SessionDep, principal: Principal, group_id: int) -> Group:
    group = group_service.get_group(
        session=session, organisation=principal.organisation, group_id=group_id
    )
    if group is None:
        raise _not_found()
    return group


def _groups_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    show_archived: bool,
    name: str = "",
    error: service.PeopleError | None = None,
    done: str | None = None,
) -> Response:
    organisation = principal.organisation
    return render(
        request,
        "people/groups.html",
        status_code=400 if error else 200,
        groups=group_service.list_groups(
            session=session, organisation=organisation, include_archived=show_archived
        ),
        counts=group_service.child_counts(session=session, organisation=organisation),
        show_archived=show_archived,
        group_name=name,
        errors=error.messages if error else [],
        invalid=error.fields if error else set(),
        notice=_notice(done),
    )


@router.get("/staff/groups")
def groups_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    archived: bool = False,
    done: str | None = None,
) -> Response:
    return _groups_page(request, session, principal, show_archived=archived, done=done)


@router.post("/staff/groups", dependencies=CSRF)
def group_create(
    request: Request, session: SessionDep, principal: CurrentStaff, name: Text = ""
) -> Response:
    try:
        service.create_group(
            session=session,
            organisation=principal.organisation,
            name=name,
            actor=principal.user,
            origin=origin_of(request),
        )
    except service.PeopleError as error:
        return _groups_page(
            request, session, principal, show_archived=False, name=name, error=error
        )
    return _see("/staff/groups?done=group_created")


def _group_edit_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    group: Group,
    *,
    name: str | None = None,
    error: service.PeopleError | None = None,
    done: str | None = None,
) -> Response:
    counts = group_service.child_counts(session=session, organisation=principal.organisation)
    return render(
        request,
        "people/group_edit.html",
        status_code=400 if error else 200,
        group=group,
        group_name=group.name if name is None else name,
        child_count=counts.get(group.id or 0, 0),
        errors=error.messages if error else [],
        invalid=error.fields if error else set(),
        notice=_notice(done),
    )


@router.get("/staff/groups/{group_id}/edit")
def group_edit_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    group_id: Id,
    done: str | None = None,
) -> Response:
    group = _group_or_404(session, principal, group_id)
    return _group_edit_page(request, session, principal, group, done=done)


@router.post("/staff/groups/{group_id}/edit", dependencies=CSRF)
def group_edit(
    request: Request, session: SessionDep, principal: CurrentStaff, group_id: Id, name: Text = ""
) -> Response:
    group = _group_or_404(session, principal, group_id)
    try:
        group_service.rename_group(
            session=session,
            organisation=principal.organisation,
            group=group,
            name=name,
            actor=principal.user,
            origin=origin_of(request),
        )
    except service.PeopleError as error:
        return _group_edit_page(request, session, principal, group, name=name, error=error)
    return _see(f"/staff/groups/{group_id}/edit?done=saved")


def _set_group_archived(
    request: Request, session: SessionDep, principal: Principal, group_id: int, archived: bool
) -> Response:
    group = _group_or_404(session, principal, group_id)
    group_service.set_group_archived(
        session=session,
        organisation=principal.organisation,
        group=group,
        archived=archived,
        actor=principal.user,
        origin=origin_of(request),
    )
    done = "group_archived" if archived else "group_restored"
    return _see(f"/staff/groups/{group_id}/edit?done={done}")


@router.post("/staff/groups/{group_id}/archive", dependencies=CSRF)
def group_archive(
    request: Request, session: SessionDep, principal: CurrentStaff, group_id: Id
) -> Response:
    return _set_group_archived(request, session, principal, group_id, True)


@router.post("/staff/groups/{group_id}/restore", dependencies=CSRF)
def group_restore(
    request: Request, session: SessionDep, principal: CurrentStaff, group_id: Id
) -> Response:
    return _set_group_archived(request, session, principal, group_id, False)


# --- children ---------------------------------------------------------------------------------


@router.get("/staff/children")
def children_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    q: str = "",
    group: str = "",
    archived: bool = False,
    done: str | None = None,
) -> Response:
    organisation = principal.organisation
    groups = group_service.list_groups(
        session=session, organisation=organisation, include_archived=archived
    )
    group_id = _parse_id(group)
    chosen = next((g for g in groups if g.id == group_id), None)
    children = service.list_children(
        session=session,
        organisation=organisation,
        search=q[:100],
        group_id=chosen.id if chosen else None,
        include_archived=archived,
    )
    ids = [child.id for child in children if child.id is not None]
    return render(
        request,
        "people/children.html",
        children=children,
        groups=groups,
        chosen_group=chosen,
        q=q[:100],
        show_archived=archived,
        groups_of=group_service.groups_by_child(session=session, child_ids=ids),
        guardians_of=guardian_service.guardians_by_child(session=session, child_ids=ids),
        notice=_notice(done),
    )


def _child_or_404(session: SessionDep, principal: Principal, child_id: int) -> Child:
    child = service.get_child(
        session=session, organisation=principal.organisation, child_id=child_id
    )
    if child is None:
        raise _not_found()
    return child


def _child_form_values(child: Child | None, group_ids: set[int]) -> dict[str, Any]:
    if child is None:
        return {
            "first_name": "",
            "last_name": "",
            "birth_date": "",
            "external_id": "",
            "group_ids": group_ids,
        }
    return {
        "first_name": child.first_name,
        "last_name": child.last_name,
        "birth_date": child.birth_date.isoformat(),
        "external_id": child.external_id or "",
        "group_ids": group_ids,
    }


def _empty_guardian(principal: Principal) -> dict[str, str]:
    return {
        "full_name": "",
        "email": "",
        "phone": "",
        "locale": principal.organisation.default_locale,
        "relation": "parent",
    }


def _child_form_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    child: Child | None,
    *,
    form: dict[str, Any] | None = None,
    error: service.PeopleError | None = None,
    guardian_form: dict[str, str] | None = None,
    guardian_error: service.PeopleError | None = None,
    done: str | None = None,
) -> Response:
    """The new-child or edit-child form; `form`/`guardian_form` hold what was typed, if any."""
    organisation = principal.organisation
    child_groups: list[Group] = []
    guardians: list[Any] = []
    if child is not None and child.id is not None:
        child_groups = group_service.groups_by_child(session=session, child_ids=[child.id])[
            child.id
        ]
        guardians = guardian_service.guardians_by_child(session=session, child_ids=[child.id])[
            child.id
        ]
    if form is None:
        form = _child_form_values(child, {g.id for g in child_groups if g.id is not None})
    failed = error or guardian_error
    return render(
        request,
        "people/child_form.html",
        status_code=400 if failed else 200,
        child=child,
        form=form,
        groups=group_service.list_groups(session=session, organisation=organisation),
        archived_groups=[g for g in child_groups if g.archived_at is not None],
        guardians=guardians,
        guardian_form=guardian_form or _empty_guardian(principal),
        relations=guardian_service.RELATION_LABELS,
        languages=[(code, LOCALE_NAMES[code]) for code in LOCALES],
        errors=failed.messages if failed else [],
        invalid=error.fields if error else set(),
        guardian_invalid=guardian_error.fields if guardian_error else set(),
        notice=_notice(done),
    )


@router.get("/staff/children/new")
def child_new_page(request: Request, session: SessionDep, principal: CurrentStaff) -> Response:
    return _child_form_page(request, session, principal, None)


def _resolve_groups(session: SessionDep, principal: Principal, group_ids: list[int]) -> list[Group]:
    return group_service.resolve_groups(
        session=session, organisation=principal.organisation, group_ids=group_ids
    )


@router.post("/staff/children/new", dependencies=CSRF)
def child_create(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    first_name: Text = "",
    last_name: Text = "",
    birth_date: Text = "",
    external_id: Text = "",
    group_ids: Annotated[list[Id], Form()] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    form = {
        "first_name": first_name,
        "last_name": last_name,
        "birth_date": birth_date,
        "external_id": external_id,
        "group_ids": set(group_ids),
    }
    try:
        child = service.create_child(
            session=session,
            organisation=principal.organisation,
            first_name=first_name,
            last_name=last_name,
            birth_date=service.parse_date(birth_date),
            external_id=external_id,
            groups=_resolve_groups(session, principal, group_ids),
            actor=principal.user,
            origin=origin_of(request),
        )
    except service.PeopleError as error:
        return _child_form_page(request, session, principal, None, form=form, error=error)
    return _see(f"/staff/children/{child.id}/edit?done=child_created")


@router.get("/staff/children/{child_id}/edit")
def child_edit_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    child_id: Id,
    done: str | None = None,
) -> Response:
    child = _child_or_404(session, principal, child_id)
    return _child_form_page(request, session, principal, child, done=done)


@router.post("/staff/children/{child_id}/edit", dependencies=CSRF)
def child_edit(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    child_id: Id,
    first_name: Text = "",
    last_name: Text = "",
    birth_date: Text = "",
    external_id: Text = "",
    group_ids: Annotated[list[Id], Form()] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    child = _child_or_404(session, principal, child_id)
    form = {
        "first_name": first_name,
        "last_name": last_name,
        "birth_date": birth_date,
        "external_id": external_id,
        "group_ids": set(group_ids),
    }
    try:
        service.update_child(
            session=session,
            organisation=principal.organisation,
            child=child,
            first_name=first_name,
            last_name=last_name,
            birth_date=service.parse_date(birth_date),
            external_id=external_id,
            groups=_resolve_groups(session, principal, group_ids),
            actor=principal.user,
            origin=origin_of(request),
        )
    except service.PeopleError as error:
        return _child_form_page(request, session, principal, child, form=form, error=error)
    return _see(f"/staff/children/{child_id}/edit?done=saved")


@router.post("/staff/children/{child_id}/guardians", dependencies=CSRF)
def child_guardian_add(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    child_id: Id,
    full_name: Text = "",
    email: Text = "",
    phone: Text = "",
    locale: Text = "",
    relation: Text = "parent",
) -> Response:
    child = _child_or_404(session, principal, child_id)
    typed = {
        "full_name": full_name,
        "email": email,
        "phone": phone,
        "locale": locale,
        "relation": relation,
    }
    try:
        linked = guardian_service.link_guardian(
            session=session,
            organisation=principal.organisation,
            child=child,
            details=guardian_service.GuardianDetails(
                full_name=full_name,
                email=email,
                phone=phone,
                locale=locale or None,
                relation=relation,
            ),
            actor=principal.user,
            origin=origin_of(request),
        )
    except service.PeopleError as error:
        return _child_form_page(
            request, session, principal, child, guardian_form=typed, guardian_error=error
        )
    done = "guardian_linked" if isinstance(linked, Guardianship) else "guardian_asked"
    return _see(f"/staff/children/{child_id}/edit?done={done}#guardians")


@router.post("/staff/children/{child_id}/guardians/{guardian_id}/remove", dependencies=CSRF)
def child_guardian_remove(
    request: Request, session: SessionDep, principal: CurrentStaff, child_id: Id, guardian_id: Id
) -> Response:
    child = _child_or_404(session, principal, child_id)
    guardian = guardian_service.get_guardian(
        session=session, organisation=principal.organisation, guardian_id=guardian_id
    )
    if guardian is None or not guardian_service.unlink_guardian(
        session=session,
        organisation=principal.organisation,
        child=child,
        guardian=guardian,
        actor=principal.user,
        origin=origin_of(request),
    ):
        raise _not_found()
    return _see(f"/staff/children/{child_id}/edit?done=guardian_removed#guardians")


def _set_child_archived(
    request: Request, session: SessionDep, principal: Principal, child_id: int, archived: bool
) -> Response:
    child = _child_or_404(session, principal, child_id)
    service.set_child_archived(
        session=session,
        organisation=principal.organisation,
        child=child,
        archived=archived,
        actor=principal.user,
        origin=origin_of(request),
    )
    done = "child_archived" if archived else "child_restored"
    return _see(f"/staff/children/{child_id}/edit?done={done}")


@router.post("/staff/children/{child_id}/archive", dependencies=CSRF)
def child_archive(
    request: Request, session: SessionDep, principal: CurrentStaff, child_id: Id
) -> Response:
    return _set_child_archived(request, session, principal, child_id, True)


@router.post("/staff/children/{child_id}/restore", dependencies=CSRF)
def child_restore(
    request: Request, session: SessionDep, principal: CurrentStaff, child_id: Id
) -> Response:
    return _set_child_archived(request, session, principal, child_id, False)


# --- guardians --------------------------------------------------------------------------------


@router.get("/staff/guardians")
def guardians_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    q: str = "",
    done: str | None = None,
) -> Response:
    organisation = principal.organisation
    guardians = guardian_service.list_guardians(
        session=session, organisation=organisation, search=q[:100]
    )
    return render(
        request,
        "people/guardians.html",
        guardians=guardians,
        q=q[:100],
        children_of=guardian_service.children_by_guardian(
            session=session,
            organisation=organisation,
            guardian_ids=[g.id for g in guardians if g.id is not None],
        ),
        notice=_notice(done),
    )


def _guardian_or_404(session: SessionDep, principal: Principal, guardian_id: int) -> User:
    guardian = guardian_service.get_guardian(
        session=session, organisation=principal.organisation, guardian_id=guardian_id
    )
    if guardian is None:
        raise _not_found()
    return guardian


def _guardian_edit_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    guardian: User,
    *,
    form: dict[str, str] | None = None,
    error: service.PeopleError | None = None,
    done: str | None = None,
) -> Response:
    organisation = principal.organisation
    assert guardian.id is not None
    return render(
        request,
        "people/guardian_edit.html",
        status_code=400 if error else 200,
        guardian=guardian,
        form=form
        or {
            "full_name": guardian.full_name,
            "email": guardian.email,
            "phone": guardian.phone or "",
            "locale": guardian.locale or "",
        },
        children=guardian_service.children_by_guardian(
            session=session, organisation=organisation, guardian_ids=[guardian.id]
        )[guardian.id],
        contact_locked=guardian_service.contact_is_shared(
            session=session, organisation=organisation, user=guardian
        ),
        languages=[(code, LOCALE_NAMES[code]) for code in LOCALES],
        errors=error.messages if error else [],
        invalid=error.fields if error else set(),
        notice=_notice(done),
    )


@router.get("/staff/guardians/{guardian_id}/edit")
def guardian_edit_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    guardian_id: Id,
    done: str | None = None,
) -> Response:
    guardian = _guardian_or_404(session, principal, guardian_id)
    return _guardian_edit_page(request, session, principal, guardian, done=done)


@router.post("/staff/guardians/{guardian_id}/edit", dependencies=CSRF)
def guardian_edit(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    guardian_id: Id,
    full_name: Text = "",
    email: Text = "",
    phone: Text = "",
    locale: Text = "",
) -> Response:
    guardian = _guardian_or_404(session, principal, guardian_id)
    form = {"full_name": full_name, "email": email, "phone": phone, "locale": locale}
    try:
        guardian_service.update_guardian(
            session=session,
            organisation=principal.organisation,
            guardian=guardian,
            full_name=full_name,
            email=email,
            phone=phone,
            locale=locale or None,
            actor=principal.user,
            origin=origin_of(request),
        )
    except service.PeopleError as error:
        return _guardian_edit_page(request, session, principal, guardian, form=form, error=error)
    return _see(f"/staff/guardians/{guardian_id}/edit?done=saved")


@router.post("/staff/guardians/{guardian_id}/archive", dependencies=CSRF)
def guardian_archive(
    request: Request, session: SessionDep, principal: CurrentStaff, guardian_id: Id
) -> Response:
    guardian = _guardian_or_404(session, principal, guardian_id)
    guardian_service.archive_guardian(
        session=session,
        organisation=principal.organisation,
        guardian=guardian,
        actor=principal.user,
        origin=origin_of(request),
    )
    return _see("/staff/guardians?done=guardian_archived")
