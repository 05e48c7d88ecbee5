"""Consent factories: a guardian's answers, recorded through the real consent service."""

from __future__ import annotations

from sqlmodel import Session

from consentlens.auth.models import User
from consentlens.consent import service as consent
from consentlens.consent.uses import Use
from consentlens.core.tables import utcnow
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child

ALL_USES = tuple(Use)


def decide(
    session: Session, org: Organisation, kid: Child, guardian: User, answers: dict[str, bool]
) -> None:
    """Record a guardian's answers through the real consent service (and its hook)."""
    uses = {u.code: u for u in consent.list_uses(session=session, organisation=org)}
    for code, granted in answers.items():
        consent.record_decision(
            session=session,
            organisation=org,
            child=kid,
            use=uses[code],
            granted=granted,
            method="online",
            now=utcnow(),
            guardian=guardian,
        )


def grant_all(session: Session, org: Organisation, kid: Child, guardian: User) -> None:
    decide(session, org, kid, guardian, dict.fromkeys(ALL_USES, True))
