"""Recording decisions in the real database, and reading effective consent back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role
from consentlens.consent import events
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentDecision
from consentlens.consent.policy import ConsentState
from consentlens.consent.uses import Use
from consentlens.db.guards import AppendOnlyError
from tests import factories

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def club(db):
    org = factories.organisation(db, today=NOW.date())
    ann = factories.user(db, org, Role.GUARDIAN, name="Ann Peeters")
    bart = factories.user(db, org, Role.GUARDIAN, name="Bart Peeters")
    staff = factories.user(db, org, Role.STAFF)
    kid = factories.child(db, org, birth_date=date(2017, 3, 1), guardians=(ann, bart))
    uses = {use.code: use for use in consent.list_uses(session=db, organisation=org)}
    return org, ann, bart, staff, kid, uses


def test_new_organisations_get_the_six_default_uses_in_three_languages(db):
    org = factories.organisation(db)
    uses = consent.list_uses(session=db, organisation=org)
    assert [u.code for u in uses] == list(Use)
    for use in uses:
        for locale in ("nl", "fr", "en"):
            assert use.label(locale) and len(use.explanation(locale)) > 30
    assert consent.list_uses(session=db, organisation=org, photos_only=True)[-1].code == Use.PRESS
    # Idempotent.
    assert len(consent.ensure_default_uses(session=db, organisation=org)) == 6


def test_season_end_is_the_end_of_the_local_day(db):
    org = factories.organisation(db, today=NOW.date())
    assert org.season_end == date(2027, 6, 30)
    assert consent.season_valid_until(org) == datetime(2027, 6, 30, 22, 0, tzinfo=UTC)


def test_recorded_decisions_drive_effective_consent(db, club):
    org, ann, bart, _staff, kid, uses = club
    for guardian in (ann, bart):
        consent.record_decision(
            session=db,
            organisation=org,
            child=kid,
            use=uses[Use.WEBSITE],
            granted=True,
            method="online",
            now=NOW,
            guardian=guardian,
            recorded_by=guardian,
        )
    consent.record_decision(
        session=db,
        organisation=org,
        child=kid,
        use=uses[Use.PRESS],
        granted=True,
        method="online",
        now=NOW,
        guardian=ann,
    )
    states = consent.effective_consents(
        session=db,
        organisation=org,
        children=[kid],
        uses=list(uses.values()),
        now=NOW + timedelta(minutes=1),
    )
    assert states[(kid.id, Use.WEBSITE)].state is ConsentState.GRANTED
    assert states[(kid.id, Use.PRESS)].state is ConsentState.WAITING
    assert states[(kid.id, Use.SOCIAL_MEDIA)].state is ConsentState.NO_ANSWER
    assert "Ann Peeters, Bart Peeters" in str(states[(kid.id, Use.WEBSITE)].reason)

    # Bart withdraws: effective at once.
    consent.record_decision(
        session=db,
        organisation=org,
        child=kid,
        use=uses[Use.WEBSITE],
        granted=False,
        method="online",
        now=NOW + timedelta(minutes=2),
        guardian=bart,
    )
    after = consent.effective_consents(
        session=db,
        organisation=org,
        children=[kid],
        uses=[uses[Use.WEBSITE]],
        now=NOW + timedelta(minutes=2),
    )
    assert after[(kid.id, Use.WEBSITE)].state is ConsentState.REFUSED


def test_a_paper_form_recorded_by_staff_is_audited_with_its_evidence(db, club):
    org, ann, _, staff, kid, uses = club
    signed = NOW - timedelta(days=3)
    decision = consent.record_decision(
        session=db,
        organisation=org,
        child=kid,
        use=uses[Use.PRINT],
        granted=True,
        method="paper",
        now=NOW,
        guardian=ann,
        recorded_by=staff,
        decided_at=signed,
        evidence_ref="scan-0042.pdf",
    )
    assert decision.decided_at == signed and decision.valid_until == consent.season_valid_until(org)
    event = db.exec(
        select(AuditEvent).where(AuditEvent.action == "consent.decision_recorded")
    ).one()
    assert event.actor_id == staff.id and event.subject_id == str(kid.id)
    assert event.details["method"] == "paper" and event.details["guardian_id"] == ann.id


def test_every_decision_is_announced_through_the_hook(db, club):
    org, ann, _, _, kid, uses = club
    seen: list[events.ConsentChanged] = []

    def listener(session, change):
        seen.append(change)

    events.subscribe(listener)
    try:
        decision = consent.record_decision(
            session=db,
            organisation=org,
            child=kid,
            use=uses[Use.SOCIAL_MEDIA],
            granted=False,
            method="online",
            now=NOW,
            guardian=ann,
        )
    finally:
        events.unsubscribe(listener)
    assert seen == [events.ConsentChanged(org.id, kid.id, Use.SOCIAL_MEDIA, decision.id)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"guardian": "stranger"}, "is not a guardian of"),
        ({"guardian": None, "by_child": True}, "younger than 12"),
        ({"by_child": True}, "either by one guardian or by the child"),
        ({"guardian": None}, "either by one guardian or by the child"),
        ({"method": "carrier-pigeon"}, "Unknown method"),
        ({"decided_at": NOW + timedelta(days=2)}, "future"),
        (
            {
                "now": datetime(2027, 7, 2, tzinfo=UTC),
                "decided_at": datetime(2027, 7, 1, 12, tzinfo=UTC),
            },
            "season ended on 2027-06-30",
        ),
        ({"use": "other-club"}, "must belong to this organisation"),
    ],
)
def test_bad_decisions_are_refused_with_a_clear_message(db, club, change, message):
    org, ann, _, _, kid, uses = club
    kwargs = {
        "session": db,
        "organisation": org,
        "child": kid,
        "use": uses[Use.WEBSITE],
        "granted": True,
        "method": "online",
        "now": NOW,
        "guardian": ann,
    }
    if change.get("guardian") == "stranger":
        change = {"guardian": factories.user(db, org, Role.GUARDIAN)}
    if change.get("use") == "other-club":
        other = factories.organisation(db)
        change = {"use": consent.list_uses(session=db, organisation=other)[0]}
    kwargs.update(change)
    with pytest.raises(consent.ConsentError, match=message):
        consent.record_decision(**kwargs)
    assert db.exec(select(ConsentDecision)).all() == []


def test_the_child_decides_from_the_co_consent_age(db):
    org = factories.organisation(db, today=NOW.date())
    mum = factories.user(db, org, Role.GUARDIAN)
    teen = factories.child(db, org, birth_date=date(2014, 11, 24), guardians=(mum,))
    website = consent.list_uses(session=db, organisation=org)[1]
    consent.record_decision(
        session=db,
        organisation=org,
        child=teen,
        use=website,
        granted=True,
        method="online",
        now=NOW,
        guardian=mum,
    )
    consent.record_decision(
        session=db,
        organisation=org,
        child=teen,
        use=website,
        granted=False,
        method="online",
        now=NOW,
        by_child=True,
    )
    state = consent.effective_consents(
        session=db, organisation=org, children=[teen], uses=[website], now=NOW
    )[(teen.id, Use.WEBSITE)]
    assert state.state is ConsentState.REFUSED and "child" in str(state.reason)


@pytest.mark.parametrize("change", ["update", "delete"])
def test_decisions_are_append_only(db, club, change):
    org, ann, _, _, kid, uses = club
    decision = consent.record_decision(
        session=db,
        organisation=org,
        child=kid,
        use=uses[Use.WEBSITE],
        granted=True,
        method="online",
        now=NOW,
        guardian=ann,
    )
    if change == "update":
        decision.granted = False
        db.add(decision)
    else:
        db.delete(decision)
    with pytest.raises(AppendOnlyError):
        db.flush()


def test_the_database_enforces_who_decided(db, club):
    _, _, _, _, kid, uses = club
    db.add(
        ConsentDecision(
            child_id=kid.id,
            use_id=uses[Use.WEBSITE].id,
            granted=True,
            party="guardian",
            guardian_id=None,
            method="online",
            decided_at=NOW,
            valid_until=NOW + timedelta(days=1),
        )
    )
    with pytest.raises(IntegrityError):
        db.flush()
