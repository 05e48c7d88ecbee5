"""What the staff pages need that is more than one service call: the group overview, a child's
guardians."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from consentlens.auth.models import User
from consentlens.consent import service
from consentlens.consent.models import ConsentUse
from consentlens.consent.policy import ConsentState, EffectiveConsent
from consentlens.consent.season import renewed_child_ids
from consentlens.organisations.models import Organisation
from consentlens.people.children import list_children
from consentlens.people.guardians import guardians_by_child
from consentlens.people.models import Child, Group

STATE_FILTERS = ("all", "incomplete", *[state.value for state in ConsentState])


@dataclass(frozen=True)
class Overview:
    group: Group
    uses: list[ConsentUse]
    rows: list[tuple[Child, dict[str, EffectiveConsent]]]
    counts: dict[str, Counter[str]]
    renewed: set[int] | None
    total: int


def _matches(states: dict[str, EffectiveConsent], use: str, state: str) -> bool:
    if state == "all":
        return True
    selected = list(states.values()) if use == "any" else [states[use]]
    if state == "incomplete":
        return any(s.state is not ConsentState.GRANTED for s in selected)
    return any(s.state.value == state for s in selected)


@dataclass(frozen=True)
class OverviewFilter:
    """Which rows of the overview to show: a consent state, in one use or any, a name to find."""

    state: str = "all"
    use: str = "any"
    query: str = ""


def overview(
    *,
    session: Session,
    organisation: Organisation,
    group: Group,
    now: datetime,
    filters: OverviewFilter = OverviewFilter(),
) -> Overview:
    """The children of a group × the uses, with counts over the whole group and rows filtered."""
    uses = service.list_uses(session=session, organisation=organisation)
    children = list_children(session=session, organisation=organisation, group_id=group.id)
    consents = service.effective_consents(
        session=session, organisation=organisation, children=children, uses=uses, now=now
    )
    per_child = {
        child.id: {u.code: consents[(child.id, u.code)] for u in uses} for child in children
    }
    counts = {u.code: Counter(per_child[c.id][u.code].state.value for c in children) for u in uses}
    codes = {u.code for u in uses}
    use = filters.use if filters.use in codes else "any"
    state = filters.state if filters.state in STATE_FILTERS else "all"
    needle = filters.query.strip().lower()
    rows = [
        (child, per_child[child.id])
        for child in children
        if _matches(per_child[child.id], use, state)
        and (not needle or needle in child.full_name.lower())
    ]
    renewed = renewed_child_ids(session=session, organisation=organisation, children=children)
    return Overview(group, uses, rows, counts, renewed, len(children))


def guardians_of_child(*, session: Session, child: Child) -> list[tuple[User, str]]:
    """The child's guardians with their relation, by name (the child page and the paper form)."""
    assert child.id is not None
    linked = guardians_by_child(session=session, child_ids=[child.id])[child.id]
    return sorted(((user, link.relation) for user, link in linked), key=lambda g: g[0].full_name)
