"""Staff pages for guardians, as staff use them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from consentlens.auth.models import ConsentLink, Membership, Role, User
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentDecision
from consentlens.consent.policy import ConsentState
from consentlens.people import guardians as guardian_service
from consentlens.people.models import Guardianship, PendingGuardianship
from tests import factories
from tests.people.members import last_event


def test_siblings_share_one_guardian_account(client, db, org, signed_in):
    lotte = factories.child(db, org, first_name="Lotte")
    noah = factories.child(db, org, first_name="Noah")
    for kid in (lotte, noah):
        response = signed_in(
            f"/staff/children/{kid.id}/guardians",
            full_name="Ann Peeters",
            email=" Ann@Example.test ",
            phone="",
            locale="fr",
            relation="parent",
        )
        assert response.status_code == 303
    accounts = db.exec(select(User).where(User.email == "ann@example.test")).all()
    assert len(accounts) == 1
    links = db.exec(select(Guardianship).where(Guardianship.guardian_id == accounts[0].id)).all()
    assert {link.child_id for link in links} == {lotte.id, noah.id}
    guardians_page = client.get("/staff/guardians").text
    assert "Ann Peeters" in guardians_page
    assert "Lotte Peeters" in guardians_page and "Noah Peeters" in guardians_page


def test_another_clubs_account_is_asked_to_confirm_not_linked_or_changed(
    client, db, org, signed_in, inbox
):
    other_club = factories.organisation(db)
    dad = factories.user(db, other_club, Role.GUARDIAN, name="Dirk Maes")
    kid = factories.child(db, org)
    response = signed_in(
        f"/staff/children/{kid.id}/guardians",
        full_name="",
        email=dad.email.upper(),
        phone="0470 11 22 33",
        locale="en",
        relation="other",
    )
    assert response.status_code == 303
    assert "done=guardian_asked" in response.headers["location"]
    page = client.get(response.headers["location"], headers={"accept-language": "en"}).text
    assert "We have asked its holder by e-mail to confirm" in page
    db.refresh(dad)
    # Nothing of the account is the club's to change, and nothing is linked yet.
    assert dad.full_name == "Dirk Maes" and dad.phone is None
    assert db.exec(select(Guardianship).where(Guardianship.child_id == kid.id)).first() is None
    pending = db.exec(select(PendingGuardianship).where(PendingGuardianship.child_id == kid.id))
    assert [p.guardian_id for p in pending] == [dad.id]
    assert len(db.exec(select(User).where(User.email == dad.email)).all()) == 1
    [mail] = inbox.to(dad.email)
    assert "/guardian-requests/" in inbox.body(mail)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"email": "not-an-address"}, "Enter a valid e-mail address."),
        ({"full_name": ""}, "Enter the guardian's name."),
        ({"phone": "call me"}, "Enter a valid phone number."),
        ({"relation": "uncle"}, "Choose a relation from the list."),
    ],
)
def test_a_bad_guardian_is_refused_and_the_input_kept(client, db, org, signed_in, form, message):
    kid = factories.child(db, org)
    data = {
        "full_name": "Ann Peeters",
        "email": "ann@example.test",
        "phone": "0470 12 34 56",
        "locale": "nl",
        "relation": "parent",
        **form,
    }
    response = signed_in(f"/staff/children/{kid.id}/guardians", **data)
    assert response.status_code == 400
    assert message in response.text
    for field in ("full_name", "email", "phone"):
        if data[field]:
            assert f'value="{data[field]}"' in response.text
    assert db.exec(select(Guardianship).where(Guardianship.child_id == kid.id)).all() == []
    assert db.exec(select(User).where(User.email == "ann@example.test")).first() is None


def test_a_guardian_is_removed_from_one_child(client, db, org, signed_in):
    ann = factories.user(db, org, Role.GUARDIAN, name="Ann")
    bart = factories.user(db, org, Role.GUARDIAN, name="Bart")
    lotte = factories.child(db, org, guardians=(ann, bart))
    noah = factories.child(db, org, guardians=(ann,))

    response = signed_in(f"/staff/children/{lotte.id}/guardians/{ann.id}/remove")
    assert response.status_code == 303
    assert (
        "The guardian was removed from this child." in client.get(response.headers["location"]).text
    )
    remaining = db.exec(select(Guardianship.guardian_id).where(Guardianship.child_id == lotte.id))
    assert list(remaining) == [bart.id]
    # Ann still has Noah here, so she stays one of the organisation's guardians.
    assert db.exec(
        select(Membership).where(Membership.user_id == ann.id, Membership.organisation_id == org.id)
    ).first()
    event = last_event(db, "people.guardian_unlinked")
    assert event.subject_id == str(lotte.id)
    assert event.details["guardian_id"] == ann.id and event.details["left_organisation"] is False

    # Bart's last child: he leaves the organisation's guardians.
    signed_in(f"/staff/children/{lotte.id}/guardians/{bart.id}/remove")
    assert not db.exec(
        select(Membership).where(
            Membership.user_id == bart.id, Membership.organisation_id == org.id
        )
    ).first()
    assert last_event(db, "people.guardian_unlinked").details["left_organisation"] is True
    assert noah.id is not None
    assert signed_in(f"/staff/children/{lotte.id}/guardians/{bart.id}/remove").status_code == 404


def test_guardians_are_edited(client, db, org, signed_in):
    ann = factories.user(db, org, Role.GUARDIAN, name="Ann", password=None)
    factories.child(db, org, guardians=(ann,))
    taken = factories.user(db, org, Role.GUARDIAN)
    page = client.get(f"/staff/guardians/{ann.id}/edit").text
    assert 'value="Ann"' in page and "readonly" not in page

    response = signed_in(
        f"/staff/guardians/{ann.id}/edit",
        full_name="Ann Peeters",
        email=taken.email,
        phone="0470",
        locale="fr",
    )
    assert response.status_code == 400
    assert "Another account already uses this e-mail address." in response.text
    assert "Enter a valid phone number." in response.text
    assert 'value="Ann Peeters"' in response.text and 'value="0470"' in response.text
    db.refresh(ann)
    assert ann.full_name == "Ann"

    response = signed_in(
        f"/staff/guardians/{ann.id}/edit",
        full_name="Ann Peeters",
        email="ANN.peeters@example.test",
        phone="+32 470 12 34 56",
        locale="fr",
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert 'value="ann.peeters@example.test"' in page and "Your changes were saved." in page
    db.refresh(ann)
    assert (ann.full_name, ann.email, ann.phone, ann.locale) == (
        "Ann Peeters",
        "ann.peeters@example.test",
        "+32 470 12 34 56",
        "fr",
    )
    assert last_event(db, "people.guardian_updated").details == {
        "changed": ["full_name", "email", "phone", "locale"]
    }


def test_a_shared_accounts_details_cannot_be_changed_here(client, db, org, signed_in):
    other_club = factories.organisation(db)
    coach = factories.user(db, other_club, Role.ADMIN, name="Coach")
    kid = factories.child(db, org, guardians=(coach,))
    assert kid.id is not None
    page = client.get(f"/staff/guardians/{coach.id}/edit").text
    assert "also used elsewhere" in page and 'name="full_name"' not in page
    for changes in (
        {"email": "attacker@example.test"},
        {"full_name": "Renamed By Us"},
        {"locale": "fr"},
    ):
        form = {"full_name": "Coach", "email": coach.email, "phone": "", "locale": ""}
        response = signed_in(f"/staff/guardians/{coach.id}/edit", **{**form, **changes})
        assert response.status_code == 400, changes
        db.refresh(coach)
        assert coach.email != "attacker@example.test" and coach.full_name == "Coach"
        assert coach.locale is None


def test_an_account_another_club_has_asked_for_is_not_this_clubs_to_edit(
    client, db, org, signed_in, inbox
):
    # Club (org) made the account; another club asked its holder. Redirecting the address now
    # would hand the other club's request, and its later links, to whoever owns the new one.
    kid = factories.child(db, org)
    signed_in(
        f"/staff/children/{kid.id}/guardians",
        full_name="Dave Dekker",
        email="dave@example.test",
        relation="parent",
    )
    dave = db.exec(select(User).where(User.email == "dave@example.test")).one()
    other_club = factories.organisation(db)
    other_kid = factories.child(db, other_club)
    guardian_service.link_guardian(
        session=db,
        organisation=other_club,
        child=other_kid,
        details=guardian_service.GuardianDetails(full_name="", email=dave.email),
    )
    db.commit()
    response = signed_in(
        f"/staff/guardians/{dave.id}/edit",
        full_name="Dave Dekker",
        email="attacker@example.test",
        phone="",
        locale="",
    )
    assert response.status_code == 400
    db.refresh(dave)
    assert dave.email == "dave@example.test"


def test_archiving_a_guardian_unlinks_them_and_their_answers_stop_counting(
    client, db, org, signed_in
):
    ann = factories.user(db, org, Role.GUARDIAN, name="Ann")
    lotte = factories.child(db, org, guardians=(ann,))
    noah = factories.child(db, org, guardians=(ann,))
    other_club = factories.organisation(db)
    elsewhere = factories.child(db, other_club, guardians=(ann,))
    use = next(u for u in consent.list_uses(session=db, organisation=org) if u.code == "website")
    now = datetime.now(UTC)
    consent.record_decision(
        session=db,
        organisation=org,
        child=lotte,
        use=use,
        granted=True,
        method="online",
        now=now,
        guardian=ann,
    )
    link = ConsentLink(
        organisation_id=org.id,
        kind="guardian",
        guardian_id=ann.id,
        short_code="ABCD2345",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    db.add(link)
    db.flush()

    response = signed_in(f"/staff/guardians/{ann.id}/archive")
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "The guardian was removed from all children of this organisation." in page
    assert "Ann" not in page.split("<main", 1)[1]

    links = db.exec(select(Guardianship).where(Guardianship.guardian_id == ann.id)).all()
    assert [g.child_id for g in links] == [elsewhere.id]
    assert (
        db.exec(
            select(Membership).where(
                Membership.user_id == ann.id, Membership.organisation_id == org.id
            )
        ).first()
        is None
    )
    assert db.get(User, ann.id) is not None
    db.refresh(link)
    assert link.revoked_at is not None
    # The log keeps her answer.
    assert db.exec(select(ConsentDecision).where(ConsentDecision.child_id == lotte.id)).one()
    states = consent.effective_consents(
        session=db, organisation=org, children=[lotte], uses=[use], now=now
    )
    assert states[(lotte.id, "website")].state is not ConsentState.GRANTED
    event = last_event(db, "people.guardian_archived")
    assert event.subject_type == "user" and event.subject_id == str(ann.id)
    assert event.details == {"child_ids": sorted([lotte.id, noah.id]), "revoked_links": [link.id]}
    assert client.get(f"/staff/guardians/{ann.id}/edit").status_code == 404
