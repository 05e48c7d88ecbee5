"""Who may see which photo in the gallery, and the paged lists behind the gallery pages.

Guardians see only events of their children's groups (and photos where their own child is
named), and only photos whose internal-gallery verdict shows them, rendered per that verdict.
Everything a guardian may not see is reported as absent (404), never as forbidden.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Exists, Select, exists, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from consentlens.auth.deps import Principal
from consentlens.consent.uses import Use
from consentlens.faces.models import NAMED_STATES, Face, StoredVerdict
from consentlens.people.models import Child, ChildGroup, Guardianship
from consentlens.photos.models import Event, EventGroup, Photo, PhotoFamilyHiding, PhotoStatus

PAGE_SIZE = 48
VISIBLE_ACTIONS = ("show", "blur")


class StaffFilter(enum.StrEnum):
    ALL = ""
    NEEDS_REVIEW = "needs_review"
    HIDDEN_FROM_WEBSITE = "hidden_from_website"
    FAILED = "failed"
    HIDDEN_BY_STAFF = "hidden_by_staff"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of photos, newest first; `next_before` continues the list (keyset paging)."""

    photos: list[Photo]
    next_before: int | None


def _own_children(principal: Principal) -> Select[Any]:
    return (
        select(Guardianship.child_id)
        .join(Child, col(Child.id) == Guardianship.child_id)
        .where(
            Guardianship.guardian_id == principal.user.id,
            Child.organisation_id == principal.organisation.id,
            col(Child.archived_at).is_(None),
        )
    )


def _own_groups(principal: Principal) -> Select[Any]:
    return select(ChildGroup.group_id).where(col(ChildGroup.child_id).in_(_own_children(principal)))


def guardian_events(*, session: Session, principal: Principal) -> list[Event]:
    """Events of the groups the guardian's children are in, newest first."""
    return list(
        session.exec(
            select(Event)
            .where(
                Event.organisation_id == principal.organisation.id,
                col(Event.id).in_(
                    select(EventGroup.event_id).where(
                        col(EventGroup.group_id).in_(_own_groups(principal))
                    )
                ),
            )
            .order_by(col(Event.event_date).desc(), col(Event.id).desc())
        )
    )


def _shown_in_gallery() -> Exists:
    return exists().where(
        col(StoredVerdict.photo_id) == Photo.id,
        col(StoredVerdict.use_code) == Use.INTERNAL_GALLERY,
        col(StoredVerdict.action).in_(VISIBLE_ACTIONS),
    )


def _not_hidden_from_family(principal: Principal) -> ColumnElement[bool]:
    """Not taken out of this family's gallery: by a hiding for this guardian, or for a guardian
    who shares a child with them."""
    family = select(Guardianship.guardian_id).where(
        col(Guardianship.child_id).in_(_own_children(principal))
    )
    return ~exists().where(
        col(PhotoFamilyHiding.photo_id) == Photo.id,
        or_(
            col(PhotoFamilyHiding.guardian_id) == principal.user.id,
            col(PhotoFamilyHiding.guardian_id).in_(family),
        ),
    )


def _guardian_scope(principal: Principal) -> ColumnElement[bool]:
    """Photos of events of the guardian's groups, or photos naming one of their children."""
    return or_(
        col(Photo.event_id).in_(
            select(EventGroup.event_id).where(col(EventGroup.group_id).in_(_own_groups(principal)))
        ),
        exists().where(
            col(Face.photo_id) == Photo.id,
            col(Face.state).in_(NAMED_STATES),
            col(Face.child_id).in_(_own_children(principal)),
        ),
    )


def _page(
    session: Session, statement: SelectOfScalar[Photo], before: int | None, limit: int
) -> Page:
    if before is not None:
        statement = statement.where(col(Photo.id) < before)
    rows = list(session.exec(statement.order_by(col(Photo.id).desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more and rows else None)


def _guardian_list(principal: Principal, event_id: int | None, mine: bool) -> SelectOfScalar[Photo]:
    statement = select(Photo).where(
        Photo.organisation_id == principal.organisation.id,
        _guardian_scope(principal),
        _shown_in_gallery(),
        _not_hidden_from_family(principal),
    )
    if event_id is not None:
        statement = statement.where(Photo.event_id == event_id)
    if mine:
        statement = statement.where(
            exists().where(
                col(Face.photo_id) == Photo.id,
                col(Face.state).in_(NAMED_STATES),
                col(Face.child_id).in_(_own_children(principal)),
            )
        )
    return statement


def guardian_photos(
    *,
    session: Session,
    principal: Principal,
    event_id: int | None = None,
    mine: bool = False,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """The photos a guardian may see (of one event, or where their own child is named)."""
    return _page(session, _guardian_list(principal, event_id, mine), before, limit)


@dataclass(frozen=True, slots=True)
class Neighbours:
    """The photos on either side of one in a guardian's list (newest first); None at an end."""

    previous: int | None
    next: int | None


def guardian_neighbours(
    *,
    session: Session,
    principal: Principal,
    photo: Photo,
    event_id: int | None = None,
    mine: bool = False,
) -> Neighbours:
    """Previous and next in the same list the gallery shows, so browsing never leaves it."""
    statement = _guardian_list(principal, event_id, mine)
    newer = session.exec(
        statement.where(col(Photo.id) > photo.id).order_by(col(Photo.id).asc()).limit(1)
    ).first()
    older = session.exec(
        statement.where(col(Photo.id) < photo.id).order_by(col(Photo.id).desc()).limit(1)
    ).first()
    return Neighbours(newer.id if newer else None, older.id if older else None)


def guardian_may_see(*, session: Session, principal: Principal, photo: Photo) -> bool:
    """May this guardian open this photo at all (before the live verdict is applied)?"""
    if photo.organisation_id != principal.organisation.id:
        return False
    return (
        session.exec(
            select(Photo.id).where(
                Photo.id == photo.id,
                _guardian_scope(principal),
                _shown_in_gallery(),
                _not_hidden_from_family(principal),
            )
        ).first()
        is not None
    )


def guardian_may_see_event(*, session: Session, principal: Principal, event: Event) -> bool:
    return event.organisation_id == principal.organisation.id and event.id in {
        e.id for e in guardian_events(session=session, principal=principal)
    }


def staff_photos(
    *,
    session: Session,
    principal: Principal,
    group_id: int | None = None,
    event_id: int | None = None,
    child_id: int | None = None,
    show: StaffFilter = StaffFilter.ALL,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """Every photo of the organisation, filtered as the staff gallery asks."""
    statement = select(Photo).where(Photo.organisation_id == principal.organisation.id)
    if event_id is not None:
        statement = statement.where(Photo.event_id == event_id)
    if group_id is not None:
        statement = statement.where(
            col(Photo.event_id).in_(
                select(EventGroup.event_id).where(EventGroup.group_id == group_id)
            )
        )
    if child_id is not None:
        statement = statement.where(
            exists().where(
                col(Face.photo_id) == Photo.id,
                col(Face.state).in_(NAMED_STATES),
                col(Face.child_id) == child_id,
            )
        )
    if show is StaffFilter.NEEDS_REVIEW:
        statement = statement.where(Photo.status == PhotoStatus.NEEDS_REVIEW.value)
    elif show is StaffFilter.FAILED:
        statement = statement.where(Photo.status == PhotoStatus.FAILED.value)
    elif show is StaffFilter.HIDDEN_BY_STAFF:
        statement = statement.where(col(Photo.hidden_at).is_not(None))
    elif show is StaffFilter.HIDDEN_FROM_WEBSITE:
        statement = statement.where(
            exists().where(
                col(StoredVerdict.photo_id) == Photo.id,
                col(StoredVerdict.use_code) == Use.WEBSITE,
                col(StoredVerdict.action) == "hide",
            )
        )
    return _page(session, statement, before, limit)
