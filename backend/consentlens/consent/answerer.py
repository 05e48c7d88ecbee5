"""Who is answering on the consent page: a signed-in guardian, or a child through their own link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from consentlens.auth import links
from consentlens.auth.deps import LoginRequired, OptionalAnyone, current_auth_session
from consentlens.auth.models import ConsentLink, User
from consentlens.core.db import SessionDep
from consentlens.core.tables import utcnow
from consentlens.organisations.models import Organisation
from consentlens.people import guardians as guardian_service
from consentlens.people.models import Child


class LinkNoLongerValid(Exception):
    """The link that opened this session expired or was revoked while it was being used."""


@dataclass(frozen=True)
class Answerer:
    organisation: Organisation
    children: list[Child]
    # None when the child answers for themselves.
    guardian: User | None
    link: ConsentLink | None = None

    @property
    def by_child(self) -> bool:
        return self.guardian is None


def _child_answerer(session: Session, link_id: int) -> Answerer:
    link = session.get(ConsentLink, link_id)
    if link is None or link.child_id is None or links.check_link(link=link, now=utcnow()).problem:
        raise LinkNoLongerValid
    child = session.get(Child, link.child_id)
    organisation = session.get(Organisation, link.organisation_id)
    if child is None or organisation is None or child.archived_at is not None:
        raise LinkNoLongerValid
    return Answerer(organisation=organisation, children=[child], guardian=None, link=link)


def get_answerer(request: Request, session: SessionDep, principal: OptionalAnyone) -> Answerer:
    """Who answers: a child by their own link, or a guardian (signed in, or by their link, then
    only for their children in the organisation that made the link)."""
    row = current_auth_session(request=request, session=session)
    if row is not None and row.link_id is not None and row.user_id is None:
        return _child_answerer(session, row.link_id)
    if principal is None or not principal.is_guardian:
        if row is not None and row.link_id is not None:
            raise LinkNoLongerValid
        raise LoginRequired
    children = guardian_service.children_of_guardian(
        session=session, organisation=principal.organisation, guardian=principal.user
    )
    return Answerer(
        organisation=principal.organisation,
        children=children,
        guardian=principal.user,
        link=principal.link,
    )


CurrentAnswerer = Annotated[Answerer, Depends(get_answerer)]
