"""Consent uses and the decision log: recording decisions and reading effective consent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.consent import events
from consentlens.consent.defaults import DEFAULT_USES
from consentlens.consent.models import ConsentDecision, ConsentUse
from consentlens.consent.policy import (
    ConsentRules,
    DecisionRecord,
    EffectiveConsent,
    Party,
    age_on,
    effective_consent,
)
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child, Guardianship

METHODS = ("online", "paper", "staff")
# A paper form may be dated a little ahead of the server clock; more than that is a typo.
_CLOCK_SKEW = timedelta(minutes=5)


class ConsentError(ValueError):
    """A decision that cannot be recorded; the message is shown to the user."""


def ensure_default_uses(*, session: Session, organisation: Organisation) -> list[ConsentUse]:
    """Create the standard uses an organisation lacks (idempotent)."""
    existing = {use.code for use in list_uses(session=session, organisation=organisation)}
    assert organisation.id is not None
    for order, text in enumerate(DEFAULT_USES):
        if text["code"] not in existing:
            session.add(ConsentUse(organisation_id=organisation.id, sort_order=order, **text))
    session.flush()
    return list_uses(session=session, organisation=organisation)


def list_uses(
    *, session: Session, organisation: Organisation, photos_only: bool = False
) -> list[ConsentUse]:
    statement = select(ConsentUse).where(ConsentUse.organisation_id == organisation.id)
    if photos_only:
        statement = statement.where(col(ConsentUse.applies_to_photos).is_(True))
    return list(session.exec(statement.order_by(col(ConsentUse.sort_order), col(ConsentUse.id))))


def consent_rules(organisation: Organisation) -> ConsentRules:
    return ConsentRules(
        co_consent_age=organisation.co_consent_age,
        sole_consent_age=organisation.sole_consent_age,
        require_all_guardians=organisation.require_all_guardians,
        timezone=organisation.timezone,
    )


def season_valid_until(organisation: Organisation) -> datetime:
    """Decisions hold until the end of the season's last day, in the organisation's time zone."""
    tz = ZoneInfo(organisation.timezone)
    next_day = organisation.season_end + timedelta(days=1)
    return datetime.combine(next_day, time(0, 0), tzinfo=tz)


def _guardian_ids(session: Session, child_id: int) -> set[int]:
    return set(
        session.exec(select(Guardianship.guardian_id).where(Guardianship.child_id == child_id))
    )


def record_decision(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    use: ConsentUse,
    granted: bool,
    method: str,
    now: datetime,
    guardian: User | None = None,
    by_child: bool = False,
    recorded_by: User | None = None,
    decided_at: datetime | None = None,
    evidence_ref: str | None = None,
    origin: audit.Origin | None = None,
) -> ConsentDecision:
    """Append one decision to the log, audit it and tell the rest of the system."""
    if child.organisation_id != organisation.id or use.organisation_id != organisation.id:
        raise ConsentError("The child and the use must belong to this organisation.")
    if method not in METHODS:
        raise ConsentError(f"Unknown method '{method}'; use one of {', '.join(METHODS)}.")
    if by_child == (guardian is not None):
        raise ConsentError("A decision is made either by one guardian or by the child.")
    decided_at = decided_at or now
    if decided_at > now + _CLOCK_SKEW:
        raise ConsentError("A decision cannot be dated in the future.")
    valid_until = season_valid_until(organisation)
    if decided_at >= valid_until:
        raise ConsentError(
            f"The season ended on {organisation.season_end.isoformat()}; "
            "an admin must start the new season first."
        )
    local_day = decided_at.astimezone(ZoneInfo(organisation.timezone)).date()
    if local_day < child.birth_date:
        raise ConsentError(
            f"A decision cannot be dated before {child.full_name} was born "
            f"({child.birth_date.isoformat()})."
        )
    assert child.id is not None and use.id is not None and organisation.id is not None
    if guardian is not None and guardian.id not in _guardian_ids(session, child.id):
        # No name in the message: the id may be someone else's, of another club.
        raise ConsentError(f"Account {guardian.id} is not a guardian of {child.full_name}.")
    if (
        by_child
        and age_on(birth_date=child.birth_date, day=local_day) < organisation.co_consent_age
    ):
        raise ConsentError(
            f"{child.full_name} is younger than {organisation.co_consent_age}: "
            "their guardians decide."
        )

    decision = ConsentDecision(
        child_id=child.id,
        use_id=use.id,
        granted=granted,
        party=(Party.CHILD if by_child else Party.GUARDIAN).value,
        guardian_id=guardian.id if guardian else None,
        recorded_by_id=recorded_by.id if recorded_by else None,
        method=method,
        decided_at=decided_at,
        valid_until=valid_until,
        evidence_ref=evidence_ref,
    )
    session.add(decision)
    session.flush()
    assert decision.id is not None
    audit.record(
        session=session,
        action="consent.decision_recorded",
        organisation_id=organisation.id,
        actor_id=recorded_by.id if recorded_by else None,
        subject_type="child",
        subject_id=child.id,
        details={
            "decision_id": decision.id,
            "use": use.code,
            "granted": granted,
            "party": decision.party,
            "guardian_id": decision.guardian_id,
            "method": method,
            "decided_at": decided_at.isoformat(),
        },
        origin=origin,
    )
    events.notify(
        session=session,
        change=events.ConsentChanged(
            organisation_id=organisation.id,
            child_id=child.id,
            use_code=use.code,
            decision_id=decision.id,
        ),
    )
    return decision


def decision_records(
    *, session: Session, child_ids: Sequence[int]
) -> dict[tuple[int, int], list[DecisionRecord]]:
    """The decision log of some children as policy records, keyed by (child id, use id)."""
    log: dict[tuple[int, int], list[DecisionRecord]] = defaultdict(list)
    if not child_ids:
        return log
    rows = session.exec(
        select(ConsentDecision, User.full_name)
        .join(User, col(User.id) == ConsentDecision.guardian_id, isouter=True)
        .where(col(ConsentDecision.child_id).in_(child_ids))
    ).all()
    for decision, guardian_name in rows:
        assert decision.id is not None
        log[(decision.child_id, decision.use_id)].append(
            DecisionRecord(
                decision_id=decision.id,
                party=Party(decision.party),
                granted=decision.granted,
                decided_at=decision.decided_at,
                valid_until=decision.valid_until,
                guardian_id=decision.guardian_id,
                decided_by=guardian_name or "",
            )
        )
    return log


def effective_consents(
    *,
    session: Session,
    organisation: Organisation,
    children: Sequence[Child],
    uses: Sequence[ConsentUse],
    now: datetime,
) -> dict[tuple[int | None, str], EffectiveConsent]:
    """Effective consent of each child for each use, keyed by (child id, use code)."""
    child_ids = [child.id for child in children if child.id is not None]
    log = decision_records(session=session, child_ids=child_ids)
    guardians: dict[int, set[int]] = defaultdict(set)
    for child_id, guardian_id in session.exec(
        select(Guardianship.child_id, Guardianship.guardian_id).where(
            col(Guardianship.child_id).in_(child_ids)
        )
    ):
        guardians[child_id].add(guardian_id)
    rules = consent_rules(organisation)
    result: dict[tuple[int | None, str], EffectiveConsent] = {}
    for child in children:
        assert child.id is not None
        for use in uses:
            assert use.id is not None
            result[(child.id, use.code)] = effective_consent(
                use=use.code,
                birth_date=child.birth_date,
                guardian_ids=guardians[child.id],
                decisions=log.get((child.id, use.id), []),
                rules=rules,
                now=now,
            )
    return result


def get_decision(
    *, session: Session, organisation: Organisation, decision_id: int
) -> ConsentDecision | None:
    """A decision about a child of the organisation, else None (also for another organisation's)."""
    decision = session.get(ConsentDecision, decision_id)
    child = session.get(Child, decision.child_id) if decision is not None else None
    if child is None or child.organisation_id != organisation.id:
        return None
    return decision


@dataclass(frozen=True)
class HistoryEntry:
    """One decision of a child's log, with the names a person needs to read it."""

    decision: ConsentDecision
    use: ConsentUse
    decided_by: str
    recorded_by: str


def history(
    *, session: Session, child: Child, guardian_id: int | None = None
) -> list[HistoryEntry]:
    """A child's decisions, newest first; only one guardian's when `guardian_id` is given."""
    decider = aliased(User)
    recorder = aliased(User)
    statement = (
        select(ConsentDecision, ConsentUse, decider.full_name, recorder.full_name)
        .join(ConsentUse, col(ConsentUse.id) == ConsentDecision.use_id)
        .join(decider, col(decider.id) == ConsentDecision.guardian_id, isouter=True)
        .join(recorder, col(recorder.id) == ConsentDecision.recorded_by_id, isouter=True)
        .where(ConsentDecision.child_id == child.id)
        .order_by(col(ConsentDecision.decided_at).desc(), col(ConsentDecision.id).desc())
    )
    if guardian_id is not None:
        statement = statement.where(ConsentDecision.guardian_id == guardian_id)
    return [
        HistoryEntry(decision, use, decided_by or child.full_name, recorded_by or "")
        for decision, use, decided_by, recorded_by in session.exec(statement)
    ]
