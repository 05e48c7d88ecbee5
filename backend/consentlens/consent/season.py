"""Seasons: consent is asked again every season; a decision ends with its season."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.consent.models import ConsentDecision
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child


class SeasonError(ValueError):
    """A new season end that makes no sense; the message is shown to the admin."""


def check_new_end(*, organisation: Organisation, new_end: date, today: date) -> None:
    """Raise SeasonError unless `new_end` can end the next season (asked before confirming)."""
    previous = organisation.season_end
    if new_end <= previous or new_end <= today:
        raise SeasonError(
            f"The new season must end after the current one ({previous.isoformat()}) "
            "and after today."
        )
    if (new_end - today).days > 2 * 366:
        raise SeasonError("A season can last at most two years.")


def start_new_season(
    *,
    session: Session,
    organisation: Organisation,
    new_end: date,
    actor: User,
    now: datetime,
    origin: audit.Origin,
) -> date:
    """Move the season end forward; answers given so far keep their old end. Returns the old end."""
    previous = organisation.season_end
    check_new_end(organisation=organisation, new_end=new_end, today=now.date())
    organisation.season_end = new_end
    organisation.season_started_at = now
    session.add(organisation)
    audit.record(
        session=session,
        action="season.started",
        organisation_id=organisation.id,
        actor_id=actor.id,
        subject_type="organisation",
        subject_id=organisation.id,
        details={"previous_end": previous.isoformat(), "new_end": new_end.isoformat()},
        origin=origin,
    )
    session.flush()
    return previous


def renewed_child_ids(
    *, session: Session, organisation: Organisation, children: list[Child]
) -> set[int] | None:
    """Children with an answer given since the current season started (None: no renewal yet)."""
    if organisation.season_started_at is None:
        return None
    ids = [child.id for child in children]
    return set(
        session.exec(
            select(ConsentDecision.child_id)
            .where(
                col(ConsentDecision.child_id).in_(ids),
                ConsentDecision.created_at >= organisation.season_started_at,
            )
            .distinct()
        )
    )
