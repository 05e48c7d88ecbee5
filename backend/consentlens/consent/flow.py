"""The answer flow of a guardian or a child: read the yes/no choices of a form, keep the changes.

Form fields are named `c<child id>-<use code>` with the value `yes` or `no`; an absent field means
"no change". Parsing is pure; `apply_changes` records them through `service.record_decision`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from consentlens.audit.service import Origin
from consentlens.auth.models import User
from consentlens.consent import service
from consentlens.consent.models import ConsentDecision, ConsentUse
from consentlens.consent.policy import Party
from consentlens.core.ids import parse_id
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child


class ChoiceError(ValueError):
    """A form that does not describe choices this person may make."""


@dataclass(frozen=True, slots=True)
class Choice:
    child_id: int
    use_code: str
    granted: bool


@dataclass(frozen=True, slots=True)
class Change:
    child: Child
    use: ConsentUse
    granted: bool
    # The party's answer before this change: True, False or None (none in force).
    before: bool | None


def field_name(child_id: int, use_code: str) -> str:
    return f"c{child_id}-{use_code}"


def parse_choices(
    *, form: Mapping[str, str], child_ids: Iterable[int], use_codes: Iterable[str]
) -> list[Choice]:
    """The yes/no answers in a form, refusing any child or use the person may not answer for."""
    allowed_children = set(child_ids)
    allowed_uses = set(use_codes)
    choices: list[Choice] = []
    for name, value in form.items():
        if not name.startswith("c") or "-" not in name:
            continue
        child_part, _, use_code = name[1:].partition("-")
        child_id = parse_id(child_part)
        if child_id is None:
            raise ChoiceError(f"unexpected field {name!r}")
        if child_id not in allowed_children or use_code not in allowed_uses:
            raise ChoiceError(f"no choice allowed for {name!r}")
        if value not in ("yes", "no"):
            raise ChoiceError(f"answer {value!r} for {name!r} is not yes or no")
        choices.append(Choice(child_id, use_code, value == "yes"))
    return sorted(choices, key=lambda c: (c.child_id, c.use_code))


def current_answers(
    *,
    session: Session,
    child_ids: Sequence[int],
    now: datetime,
    guardian_id: int | None = None,
    by_child: bool = False,
    min_valid_until: datetime | None = None,
) -> dict[tuple[int, int], bool]:
    """The answer in force of one party (a guardian, or the child), per child and use."""
    statement = select(ConsentDecision).where(
        col(ConsentDecision.child_id).in_(child_ids),
        ConsentDecision.decided_at <= now,
    )
    if by_child:
        statement = statement.where(ConsentDecision.party == Party.CHILD.value)
    else:
        statement = statement.where(ConsentDecision.guardian_id == guardian_id)
    latest: dict[tuple[int, int], ConsentDecision] = {}
    for decision in session.exec(
        statement.order_by(col(ConsentDecision.decided_at), col(ConsentDecision.id))
    ):
        latest[(decision.child_id, decision.use_id)] = decision
    # With `min_valid_until` (the current season's end), answers from an earlier season do not
    # count: after a new season starts, confirming the same answer again is a renewal.
    floor = max(now, min_valid_until) if min_valid_until else now
    return {
        key: d.granted
        for key, d in latest.items()
        if d.valid_until > now and d.valid_until >= floor
    }


def changes_from(
    *,
    choices: Sequence[Choice],
    children: Mapping[int, Child],
    uses: Mapping[str, ConsentUse],
    current: Mapping[tuple[int, int], bool],
) -> list[Change]:
    """Only the choices that differ from the answer in force, in the order of the form: the
    children as `children` lists them, each child's uses as `uses` does (the review page and the
    receipt read like the form the person just filled in)."""
    child_order = {child_id: index for index, child_id in enumerate(children)}
    use_order = {code: index for index, code in enumerate(uses)}
    result = []
    for choice in sorted(choices, key=lambda c: (child_order[c.child_id], use_order[c.use_code])):
        use = uses[choice.use_code]
        assert use.id is not None
        before = current.get((choice.child_id, use.id))
        if before is not choice.granted:
            result.append(Change(children[choice.child_id], use, choice.granted, before))
    return result


def apply_changes(
    *,
    session: Session,
    organisation: Organisation,
    changes: Sequence[Change],
    now: datetime,
    origin: Origin,
    guardian: User | None = None,
    by_child: bool = False,
) -> list[ConsentDecision]:
    """Record each change as a decision made online by the guardian or by the child."""
    return [
        service.record_decision(
            session=session,
            organisation=organisation,
            child=change.child,
            use=change.use,
            granted=change.granted,
            method="online",
            now=now,
            guardian=guardian,
            by_child=by_child,
            recorded_by=guardian,
            origin=origin,
        )
        for change in changes
    ]
