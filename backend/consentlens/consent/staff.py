"""What the staff pages need that is more than one service call: the group overview."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from consentlens.consent import service
from consentlens.consent.models import ConsentUse
from consentlens.consent.policy import ConsentState, EffectiveConsent
from consentlens.consent.season import renewed_child_ids
from consentlens.organisations.models import Organisation
from consentlens.people.children import list_children
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


def overview(
    *,
    session: Session,
    organisation: Organisation,
    group: Group,
    now: datetime,
    state: str = "all",
    use: str = "any",
    query: str = "",
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
    use = use if use in codes else "any"
    state = state if state in STATE_FILTERS else "all"
    needle = query.strip().lower()
    rows = [
        (child, per_child[child.id])
        for child in children
        if _matches(per_child[child.id], use, state)
        and (not needle or needle in child.full_name.lower())
    ]
    renewed = renewed_child_ids(session=session, organisation=organisation, children=children)
    return Overview(group, uses, rows, counts, renewed, len(children))
