"""Consent factories: a guardian's answers, recorded through the real consent service."""

from __future__ import annotations

from sqlmodel import Session

from consentlens.auth.models import User
from consentlens.consent import service as consent
from consentlens.consent.uses import Use
from consentlens.core.tables import utcnow
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child
from tests.conftest import csrf_from

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


def states(db, org, child):
    uses = consent.list_uses(session=db, organisation=org)
    result = consent.effective_consents(
        session=db, organisation=org, children=[child], uses=uses, now=utcnow()
    )
    return {code: value.state for (_, code), value in result.items()}


def answer(client, child, choices: dict[str, str]) -> None:
    page = client.get("/consent")
    assert page.status_code == 200
    token = csrf_from(page.text)
    fields = {f"c{child.id}-{code}": value for code, value in choices.items()}
    review = client.post("/consent/review", data={"csrf_token": token, **fields})
    assert review.status_code == 200, review.text
    done = client.post(
        "/consent/confirm", data={"csrf_token": token, "action": "confirm", **fields}
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith(f"/consent/done?saved={len(choices)}")
