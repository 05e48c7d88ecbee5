"""The organisation's children as integrations see them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff
from consentlens.core.api_errors import (
    AUTHENTICATED,
    UNREADABLE_BODY,
    not_found,
    unprocessable,
    unprocessable_all,
)
from consentlens.core.db import SessionDep
from consentlens.core.ids import Id
from consentlens.people import children as child_service
from consentlens.people import groups as group_service
from consentlens.people import guardians as guardian_service
from consentlens.people.errors import PeopleError
from consentlens.people.models import Child
from consentlens.people.schemas import ChildCreate, ChildPublic, GuardianPublic

router = APIRouter(prefix="/api/v1", tags=["organisation"], responses=AUTHENTICATED)


def _children_public(session: Session, children: Sequence[Child]) -> list[ChildPublic]:
    ids = [child.id for child in children if child.id is not None]
    groups = group_service.groups_by_child(session=session, child_ids=ids)
    guardians = guardian_service.guardians_by_child(session=session, child_ids=ids)
    return [
        ChildPublic(
            id=child.id,
            first_name=child.first_name,
            last_name=child.last_name,
            birth_date=child.birth_date,
            external_id=child.external_id,
            group_ids=[group.id for group in groups[child.id] if group.id is not None],
            guardians=[
                GuardianPublic(
                    id=user.id, full_name=user.full_name, email=user.email, relation=link.relation
                )
                for user, link in guardians[child.id]
                if user.id is not None
            ],
            archived=child.archived_at is not None,
        )
        for child in children
        if child.id is not None
    ]


def _unprocessable(error: PeopleError) -> HTTPException:
    """A people error in the shape of FastAPI's own validation errors."""
    return unprocessable_all(
        [
            (["body", *problem.field.split(".")] if problem.field else ["body"], problem.message)
            for problem in error.problems
        ]
    )


_NOT_FOUND = not_found("No such child in the caller's organisation")


@router.get("/children", response_model=list[ChildPublic], tags=["children"])
def list_children(
    session: SessionDep,
    principal: CurrentStaff,
    group_id: Annotated[Id | None, Query(description="Only children in this group.")] = None,
    include_archived: Annotated[
        bool, Query(description="Also list archived children (`archived` is true).")
    ] = False,
) -> list[ChildPublic]:
    """The organisation's children by last name, with their group ids and guardians (staff only).

    An unknown `group_id`, or one of another organisation, is answered with 422.
    """
    organisation = principal.organisation
    if group_id is not None and (
        group_service.get_group(session=session, organisation=organisation, group_id=group_id)
        is None
    ):
        raise unprocessable("Unknown group_id.", "query", "group_id")
    children = child_service.list_children(
        session=session,
        organisation=organisation,
        group_id=group_id,
        include_archived=include_archived,
    )
    return _children_public(session, children)


@router.post(
    "/children",
    response_model=ChildPublic,
    status_code=status.HTTP_201_CREATED,
    tags=["children"],
    responses={
        **UNREADABLE_BODY,
        422: {"description": "Invalid details, a duplicate external id or unknown group"},
    },
)
def create_child(
    request: Request, session: SessionDep, principal: CurrentStaff, payload: ChildCreate
) -> ChildPublic:
    """Add a child to the caller's organisation, in active groups, with guardians (staff only).

    A guardian whose e-mail address already has an account in this organisation is linked to it
    (its details are kept); an account of someone outside it is not linked but asked by e-mail to
    confirm first; otherwise an account without a password is created. Nothing is written when
    anything is wrong: the answer is 422 with one entry per problem.
    """
    organisation = principal.organisation
    try:
        groups = group_service.resolve_groups(
            session=session, organisation=organisation, group_ids=payload.group_ids
        )
        child = guardian_service.create_child_with_guardians(
            session=session,
            organisation=organisation,
            first_name=payload.first_name,
            last_name=payload.last_name,
            birth_date=payload.birth_date,
            external_id=payload.external_id,
            groups=groups,
            guardians=[
                guardian_service.GuardianDetails(
                    full_name=guardian.full_name,
                    email=guardian.email,
                    phone=guardian.phone or "",
                    locale=guardian.locale,
                    relation=guardian.relation,
                )
                for guardian in payload.guardians
            ],
            actor=principal.user,
            origin=origin_of(request),
        )
    except PeopleError as error:
        raise _unprocessable(error) from error
    return _children_public(session, [child])[0]


@router.get(
    "/children/{child_id}", response_model=ChildPublic, tags=["children"], responses=_NOT_FOUND
)
def read_child(session: SessionDep, principal: CurrentStaff, child_id: Id) -> ChildPublic:
    """One child of the caller's organisation, archived or not (staff only)."""
    child = child_service.get_child(
        session=session, organisation=principal.organisation, child_id=child_id
    )
    if child is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Child not found.")
    return _children_public(session, [child])[0]
