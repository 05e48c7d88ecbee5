"""The child picker staff name faces with: the event's groups first, and enough beside each name
(birth year, groups) to tell two children with the same name apart."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people import groups as group_service
from consentlens.people.models import Child
from consentlens.photos import service
from consentlens.photos.models import Event


@dataclass(frozen=True, slots=True)
class ChildOption:
    id: int
    name: str
    birth_year: int
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Picker:
    """The children of the event's groups, and every other active child of the club."""

    event_children: list[ChildOption]
    other_children: list[ChildOption]


def _option(child: Child, groups: list[str]) -> ChildOption:
    assert child.id is not None
    return ChildOption(child.id, child.full_name, child.birth_date.year, tuple(groups))


def child_picker(*, session: Session, organisation: Organisation, event: Event | None) -> Picker:
    """Every active child of the organisation, those in the event's groups apart."""
    everyone = child_service.list_children(session=session, organisation=organisation)
    groups = group_service.groups_by_child(
        session=session, child_ids=[child.id for child in everyone if child.id is not None]
    )
    event_group_ids = (
        {group.id for group in service.event_groups(session=session, event=event)}
        if event is not None
        else set()
    )
    in_event, others = [], []
    for child in everyone:
        assert child.id is not None
        active = [group for group in groups[child.id] if group.archived_at is None]
        choice = _option(child, [group.name for group in active])
        # An event's group archived since still says who was there.
        if any(group.id in event_group_ids for group in groups[child.id]):
            in_event.append(choice)
        else:
            others.append(choice)
    return Picker(in_event, others)
