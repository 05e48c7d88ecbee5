"""Staff pages to manage children: list, add, edit, archive, restore, and link their guardians."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.core.config import LOCALES
from consentlens.core.db import SessionDep
from consentlens.core.i18n import LOCALE_NAMES, N_
from consentlens.core.ids import Id, parse_id
from consentlens.core.pages import found_or_404, not_found, see_other
from consentlens.core.templating import render
from consentlens.people import children, groups, guardians, guardianships
from consentlens.people.errors import PeopleError
from consentlens.people.models import Child, Group, Guardianship
from consentlens.people.page_helpers import CSRF, Text, archive_or_restore

router = APIRouter(tags=["pages"], include_in_schema=False)

# Notices after a redirect: only these fixed messages can be shown, whatever the URL says.
NOTICES = {
    "saved": N_("Your changes were saved."),
    "child_created": N_("The child was added. You can now add guardians."),
    "child_archived": N_("The child was archived. They no longer appear in lists."),
    "child_restored": N_("The child was restored."),
    "guardian_linked": N_("The guardian was added."),
    "guardian_asked": N_(
        "This e-mail address already has an account. We have asked its holder by e-mail to "
        "confirm; they appear here once they do."
    ),
    "guardian_removed": N_("The guardian was removed from this child."),
    "child_protected": N_(
        "The child is protected. Every photo in which they are, or may be, is now hidden."
    ),
    "child_unprotected": N_("The child is no longer protected. Their photos follow consent again."),
}


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
    listed = groups.list_groups(
        session=session, organisation=organisation, include_archived=archived
    )
    group_id = parse_id(group)
    chosen = next((g for g in listed if g.id == group_id), None)
    found = children.list_children(
        session=session,
        organisation=organisation,
        search=q[:100],
        group_id=chosen.id if chosen else None,
        include_archived=archived,
    )
    ids = [child.id for child in found if child.id is not None]
    return render(
        request,
        "people/children.html",
        children=found,
        groups=listed,
        chosen_group=chosen,
        q=q[:100],
        show_archived=archived,
        groups_of=groups.groups_by_child(session=session, child_ids=ids),
        guardians_of=guardians.guardians_by_child(session=session, child_ids=ids),
        notice=NOTICES.get(done or ""),
    )


def _child(session: SessionDep, principal: Principal, child_id: int) -> Child:
    return found_or_404(
        children.get_child(session=session, organisation=principal.organisation, child_id=child_id)
    )


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
    error: PeopleError | None = None,
    guardian_form: dict[str, str] | None = None,
    guardian_error: PeopleError | None = None,
    done: str | None = None,
) -> Response:
    """The new-child or edit-child form; `form`/`guardian_form` hold what was typed, if any."""
    organisation = principal.organisation
    child_groups: list[Group] = []
    linked: list[Any] = []
    if child is not None and child.id is not None:
        child_groups = groups.groups_by_child(session=session, child_ids=[child.id])[child.id]
        linked = guardians.guardians_by_child(session=session, child_ids=[child.id])[child.id]
    if form is None:
        form = _child_form_values(child, {g.id for g in child_groups if g.id is not None})
    failed = error or guardian_error
    return render(
        request,
        "people/child_form.html",
        status_code=400 if failed else 200,
        child=child,
        form=form,
        groups=groups.list_groups(session=session, organisation=organisation),
        archived_groups=[g for g in child_groups if g.archived_at is not None],
        guardians=linked,
        guardian_form=guardian_form or _empty_guardian(principal),
        relations=guardians.RELATION_LABELS,
        languages=[(code, LOCALE_NAMES[code]) for code in LOCALES],
        errors=failed.messages if failed else [],
        invalid=error.fields if error else set(),
        guardian_invalid=guardian_error.fields if guardian_error else set(),
        notice=NOTICES.get(done or ""),
    )


@router.get("/staff/children/new")
def child_new_page(request: Request, session: SessionDep, principal: CurrentStaff) -> Response:
    return _child_form_page(request, session, principal, None)


def _typed_child(
    first_name: Text = "",
    last_name: Text = "",
    birth_date: Text = "",
    external_id: Text = "",
    group_ids: Annotated[list[Id], Form()] = [],  # noqa: B006 - FastAPI copies defaults
) -> dict[str, Any]:
    """The child form as typed (re-shown as it was when something is wrong)."""
    return {
        "first_name": first_name,
        "last_name": last_name,
        "birth_date": birth_date,
        "external_id": external_id,
        "group_ids": set(group_ids),
    }


TypedChild = Annotated[dict[str, Any], Depends(_typed_child)]


def _save_child(
    request: Request,
    session: SessionDep,
    principal: Principal,
    child: Child | None,
    form: dict[str, Any],
) -> Response:
    """Add (child None) or change a child from the typed form; re-show the form if it is wrong."""
    organisation = principal.organisation
    try:
        details = {
            "first_name": form["first_name"],
            "last_name": form["last_name"],
            "birth_date": children.parse_date(form["birth_date"]),
            "external_id": form["external_id"],
            "groups": groups.resolve_groups(
                session=session, organisation=organisation, group_ids=form["group_ids"]
            ),
            "actor": principal.user,
            "origin": origin_of(request),
        }
        if child is None:
            saved = children.create_child(session=session, organisation=organisation, **details)
        else:
            saved = children.update_child(
                session=session, organisation=organisation, child=child, **details
            )
    except PeopleError as error:
        return _child_form_page(request, session, principal, child, form=form, error=error)
    done = "child_created" if child is None else "saved"
    return see_other(f"/staff/children/{saved.id}/edit?done={done}")


@router.post("/staff/children/new", dependencies=CSRF)
def child_create(
    request: Request, session: SessionDep, principal: CurrentStaff, form: TypedChild
) -> Response:
    return _save_child(request, session, principal, None, form)


@router.get("/staff/children/{child_id}/edit")
def child_edit_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    child_id: Id,
    done: str | None = None,
) -> Response:
    child = _child(session, principal, child_id)
    return _child_form_page(request, session, principal, child, done=done)


@router.post("/staff/children/{child_id}/edit", dependencies=CSRF)
def child_edit(
    request: Request, session: SessionDep, principal: CurrentStaff, child_id: Id, form: TypedChild
) -> Response:
    child = _child(session, principal, child_id)
    return _save_child(request, session, principal, child, form)


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
    child = _child(session, principal, child_id)
    typed = {
        "full_name": full_name,
        "email": email,
        "phone": phone,
        "locale": locale,
        "relation": relation,
    }
    try:
        linked = guardians.link_guardian(
            session=session,
            organisation=principal.organisation,
            child=child,
            details=guardians.GuardianDetails(
                full_name=full_name,
                email=email,
                phone=phone,
                locale=locale or None,
                relation=relation,
            ),
            actor=principal.user,
            origin=origin_of(request),
        )
    except PeopleError as error:
        return _child_form_page(
            request, session, principal, child, guardian_form=typed, guardian_error=error
        )
    done = "guardian_linked" if isinstance(linked, Guardianship) else "guardian_asked"
    return see_other(f"/staff/children/{child_id}/edit?done={done}#guardians")


@router.post("/staff/children/{child_id}/guardians/{guardian_id}/remove", dependencies=CSRF)
def child_guardian_remove(
    request: Request, session: SessionDep, principal: CurrentStaff, child_id: Id, guardian_id: Id
) -> Response:
    child = _child(session, principal, child_id)
    guardian = guardians.get_guardian(
        session=session, organisation=principal.organisation, guardian_id=guardian_id
    )
    if guardian is None or not guardianships.unlink_guardian(
        session=session,
        organisation=principal.organisation,
        child=child,
        guardian=guardian,
        actor=principal.user,
        origin=origin_of(request),
    ):
        raise not_found()
    return see_other(f"/staff/children/{child_id}/edit?done=guardian_removed#guardians")


@router.post("/staff/children/{child_id}/archive", dependencies=CSRF)
@router.post("/staff/children/{child_id}/restore", dependencies=CSRF)
def child_archive_or_restore(
    request: Request, session: SessionDep, principal: CurrentStaff, child_id: Id
) -> Response:
    return archive_or_restore(
        request=request,
        session=session,
        principal=principal,
        record=_child(session, principal, child_id),
        change=children.set_child_archived,
    )
