"""Staff pages to manage groups (teams, classes): list, add, rename, archive, restore."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.core.db import SessionDep
from consentlens.core.i18n import N_
from consentlens.core.ids import Id
from consentlens.core.pages import found_or_404, see_other
from consentlens.core.templating import render
from consentlens.people import groups
from consentlens.people.errors import PeopleError
from consentlens.people.models import Group
from consentlens.people.page_helpers import CSRF, Text, archive_or_restore, form_errors

router = APIRouter(tags=["pages"], include_in_schema=False)

# Notices after a redirect: only these fixed messages can be shown, whatever the URL says.
NOTICES = {
    "group_created": N_("The group was added."),
    "saved": N_("Your changes were saved."),
    "group_archived": N_("The group was archived. It no longer appears in lists and pickers."),
    "group_restored": N_("The group was restored."),
}


def _group(session: SessionDep, principal: Principal, group_id: int) -> Group:
    return found_or_404(
        groups.get_group(session=session, organisation=principal.organisation, group_id=group_id)
    )


def _groups_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    show_archived: bool,
    name: str = "",
    error: PeopleError | None = None,
    done: str | None = None,
) -> Response:
    organisation = principal.organisation
    return render(
        request,
        "people/groups.html",
        groups=groups.list_groups(
            session=session, organisation=organisation, include_archived=show_archived
        ),
        counts=groups.child_counts(session=session, organisation=organisation),
        show_archived=show_archived,
        group_name=name,
        notice=NOTICES.get(done or ""),
        **form_errors(error),
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
        groups.create_group(
            session=session,
            organisation=principal.organisation,
            name=name,
            actor=principal.user,
            origin=origin_of(request),
        )
    except PeopleError as error:
        return _groups_page(
            request, session, principal, show_archived=False, name=name, error=error
        )
    return see_other("/staff/groups?done=group_created")


def _group_edit_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    group: Group,
    *,
    name: str | None = None,
    error: PeopleError | None = None,
    done: str | None = None,
) -> Response:
    counts = groups.child_counts(session=session, organisation=principal.organisation)
    return render(
        request,
        "people/group_edit.html",
        group=group,
        group_name=group.name if name is None else name,
        child_count=counts.get(group.id or 0, 0),
        notice=NOTICES.get(done or ""),
        **form_errors(error),
    )


@router.get("/staff/groups/{group_id}/edit")
def group_edit_page(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    group_id: Id,
    done: str | None = None,
) -> Response:
    group = _group(session, principal, group_id)
    return _group_edit_page(request, session, principal, group, done=done)


@router.post("/staff/groups/{group_id}/edit", dependencies=CSRF)
def group_edit(
    request: Request, session: SessionDep, principal: CurrentStaff, group_id: Id, name: Text = ""
) -> Response:
    group = _group(session, principal, group_id)
    try:
        groups.rename_group(
            session=session,
            organisation=principal.organisation,
            group=group,
            name=name,
            actor=principal.user,
            origin=origin_of(request),
        )
    except PeopleError as error:
        return _group_edit_page(request, session, principal, group, name=name, error=error)
    return see_other(f"/staff/groups/{group_id}/edit?done=saved")


@router.post("/staff/groups/{group_id}/archive", dependencies=CSRF)
@router.post("/staff/groups/{group_id}/restore", dependencies=CSRF)
def group_archive_or_restore(
    request: Request, session: SessionDep, principal: CurrentStaff, group_id: Id
) -> Response:
    return archive_or_restore(
        request=request,
        session=session,
        principal=principal,
        record=_group(session, principal, group_id),
        change=groups.set_group_archived,
    )
