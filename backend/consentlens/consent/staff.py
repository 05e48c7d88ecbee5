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
from consentlens.people.groups import groups_by_child
from consentlens.people.guardians import guardians_by_child
from consentlens.people.models import Child, Group

STATE_FILTERS = ("all", "incomplete", *[state.value for state in ConsentState])
# Someone still has to answer: the reminder's "without an answer in force" (invitations.py).
UNANSWERED = frozenset({ConsentState.NO_ANSWER, ConsentState.WAITING, ConsentState.EXPIRED})
# The club-wide list adds what the admin home counts: "other" (neither yes nor no).
CLUB_FILTERS = (*STATE_FILTERS, "other", "unanswered")


@dataclass(frozen=True)
class Overview:
    group: Group
    uses: list[ConsentUse]
    rows: list[tuple[Child, dict[str, EffectiveConsent]]]
    counts: dict[str, Counter[str]]
    renewed: set[int] | None
    total: int


def state_matches(*, consent: EffectiveConsent, state: str) -> bool:
    """Whether one answer is what a filter asks for."""
    if state == "all":
        return True
    if state == "incomplete":
        return consent.state is not ConsentState.GRANTED
    if state == "other":
        return consent.state not in (ConsentState.GRANTED, ConsentState.REFUSED)
    if state == "unanswered":
        return consent.state in UNANSWERED
    return consent.state.value == state


def _matches(states: dict[str, EffectiveConsent], use: str, state: str) -> bool:
    selected = list(states.values()) if use == "any" else [states[use]]
    return any(state_matches(consent=s, state=state) for s in selected)


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


@dataclass(frozen=True)
class ClubRow:
    child: Child
    groups: list[Group]
    states: dict[str, EffectiveConsent]
    guardians: list[User]
    # The uses whose answer matched the filter (all of them for one use, or "all").
    matching: list[str]


@dataclass(frozen=True)
class ClubList:
    uses: list[ConsentUse]
    use: str
    state: str
    rows: list[ClubRow]
    # Per group (None: in no group) how many listed children it has, for the reminder links.
    by_group: list[tuple[Group | None, int]]


def club_list(
    *, session: Session, organisation: Organisation, now: datetime, use: str, state: str
) -> ClubList:
    """The organisation's children whose answer matches, with their groups and guardians."""
    uses = service.list_uses(session=session, organisation=organisation)
    use = use if use in {u.code for u in uses} else "any"
    state = state if state in CLUB_FILTERS else "all"
    children = list_children(session=session, organisation=organisation)
    consents = service.effective_consents(
        session=session, organisation=organisation, children=children, uses=uses, now=now
    )
    listed = [
        (child, {u.code: consents[(child.id, u.code)] for u in uses})
        for child in children
        if _matches({u.code: consents[(child.id, u.code)] for u in uses}, use, state)
    ]
    ids = [child.id for child, _ in listed if child.id is not None]
    groups = groups_by_child(session=session, child_ids=ids)
    guardians = guardians_by_child(session=session, child_ids=ids)
    rows = [
        ClubRow(
            child,
            [g for g in groups.get(child.id, []) if g.archived_at is None],
            states,
            [user for user, _ in guardians[child.id]],
            [
                code
                for code, consent in states.items()
                if (use == "any" and state_matches(consent=consent, state=state)) or code == use
            ],
        )
        for child, states in listed
        if child.id is not None
    ]
    per_group: Counter[int | None] = Counter()
    named: dict[int, Group] = {}
    for row in rows:
        for group in row.groups:
            assert group.id is not None
            named[group.id] = group
            per_group[group.id] += 1
        if not row.groups:
            per_group[None] += 1
    by_group = sorted(
        ((named.get(gid) if gid is not None else None, n) for gid, n in per_group.items()),
        key=lambda item: (item[0] is None, item[0].name.lower() if item[0] else ""),
    )
    return ClubList(uses, use, state, rows, by_group)
