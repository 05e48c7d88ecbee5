"""Staff pages for groups, children and guardians, as staff use them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import ConsentLink, Membership, Role, User
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentDecision
from consentlens.consent.policy import ConsentState
from consentlens.people import guardians as guardian_service
from consentlens.people.models import Child, ChildGroup, Group, Guardianship, PendingGuardianship
from tests import factories
from tests.conftest import csrf_from, login


@pytest.fixture
def org(db):
    return factories.organisation(db, name="KSV Voorbeeld")


@pytest.fixture
def staff(db, org):
    return factories.user(db, org, Role.STAFF, name="Coach Carla", locale="en")


@pytest.fixture
def signed_in(client, staff):
    """The staff member signed in; returns a function that posts a form with the CSRF token."""
    login(client, staff.email, factories.PASSWORD)
    token = csrf_from(client.get("/staff/groups").text)

    def post(url: str, **data):
        return client.post(url, data={"csrf_token": token, **data})

    return post


def _actions(db, org) -> list[str]:
    return list(
        db.exec(
            select(AuditEvent.action)
            .where(
                AuditEvent.organisation_id == org.id, col(AuditEvent.action).startswith("people.")
            )
            .order_by(col(AuditEvent.id))
        )
    )


def _event(db, action: str) -> AuditEvent:
    return db.exec(
        select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id).desc())
    ).first()


# --- groups -----------------------------------------------------------------------------------


def test_groups_are_created_renamed_archived_and_restored(client, db, org, staff, signed_in):
    response = signed_in("/staff/groups", name="  U10 Dolfijnen ")
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/groups?done=group_created"
    page = client.get(response.headers["location"]).text
    assert "U10 Dolfijnen" in page and "The group was added." in page
    group = db.exec(select(Group).where(Group.organisation_id == org.id)).one()
    assert group.name == "U10 Dolfijnen"
    assert f'href="/staff/groups/{group.id}/consents"' in page

    response = signed_in(f"/staff/groups/{group.id}/edit", name="U11 Dolfijnen")
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert 'value="U11 Dolfijnen"' in page and "Your changes were saved." in page

    response = signed_in(f"/staff/groups/{group.id}/archive")
    assert response.status_code == 303
    assert "Archived" in client.get(response.headers["location"]).text
    assert "U11 Dolfijnen" not in client.get("/staff/groups").text
    archived_list = client.get("/staff/groups?archived=1").text
    assert "U11 Dolfijnen" in archived_list and "Archived" in archived_list
    assert ">U11 Dolfijnen<" not in client.get("/staff/children/new").text

    assert signed_in(f"/staff/groups/{group.id}/restore").status_code == 303
    assert "U11 Dolfijnen" in client.get("/staff/groups").text
    assert _actions(db, org) == [
        "people.group_created",
        "people.group_renamed",
        "people.group_archived",
        "people.group_restored",
    ]
    renamed = _event(db, "people.group_renamed")
    assert renamed.actor_id == staff.id and renamed.subject_id == str(group.id)
    assert renamed.details == {"old": "U10 Dolfijnen", "new": "U11 Dolfijnen"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("u10 dolfijnen", "A group with this name already exists"),
        ("Élan", "A group with this name already exists"),
        ("   ", "Enter a name for the group."),
        ("x" * 121, "That name is too long."),
    ],
)
def test_a_bad_group_name_is_refused_and_kept(client, db, org, signed_in, name, message):
    factories.group(db, org, "U10 Dolfijnen")
    factories.group(db, org, "Élan")
    response = signed_in("/staff/groups", name=name)
    assert response.status_code == 400
    assert message in response.text
    assert f'value="{name}"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert len(db.exec(select(Group).where(Group.organisation_id == org.id)).all()) == 2


def test_renaming_to_an_archived_groups_name_is_refused(client, db, org, signed_in):
    old = factories.group(db, org, "U8")
    signed_in(f"/staff/groups/{old.id}/archive")
    other = factories.group(db, org, "U9")
    response = signed_in(f"/staff/groups/{other.id}/edit", name="U8")
    assert response.status_code == 400
    assert "perhaps archived" in response.text and 'value="U8"' in response.text


def test_the_group_list_counts_active_children(client, db, org, signed_in):
    team = factories.group(db, org, "U12")
    for _ in range(3):
        kid = factories.child(db, org)
        db.add(ChildGroup(child_id=kid.id, group_id=team.id))
    gone = factories.child(db, org)
    db.add(ChildGroup(child_id=gone.id, group_id=team.id))
    db.flush()
    signed_in(f"/staff/children/{gone.id}/archive")
    assert "3 children" in client.get("/staff/groups").text


# --- children ---------------------------------------------------------------------------------


def _child_form(**overrides):
    data = {
        "first_name": "Lotte",
        "last_name": "Peeters",
        "birth_date": "2016-04-12",
        "external_id": "",
    }
    return {**data, **overrides}


def test_a_child_is_added_with_two_groups_and_two_guardians(client, db, org, staff, signed_in):
    u10, swim = factories.group(db, org, "U10"), factories.group(db, org, "Swimming")
    factories.group(db, org, "U14")
    response = signed_in(
        "/staff/children/new", **_child_form(external_id="M-104"), group_ids=[u10.id, swim.id]
    )
    assert response.status_code == 303
    child = db.exec(select(Child).where(Child.organisation_id == org.id)).one()
    assert response.headers["location"] == f"/staff/children/{child.id}/edit?done=child_created"
    assert (child.first_name, child.birth_date, child.external_id) == (
        "Lotte",
        date(2016, 4, 12),
        "M-104",
    )
    page = client.get(response.headers["location"]).text
    assert "The child was added. You can now add guardians." in page
    assert f'value="{u10.id}" checked' in page and f'value="{swim.id}" checked' in page

    for name, email, relation in [
        ("Ann Peeters", "ann@example.test", "parent"),
        ("Bart Peeters", "BART@example.test", "guardian"),
    ]:
        response = signed_in(
            f"/staff/children/{child.id}/guardians",
            full_name=name,
            email=email,
            phone="+32 470 12 34 56",
            locale="nl",
            relation=relation,
        )
        assert response.status_code == 303
    page = client.get(f"/staff/children/{child.id}/edit").text
    assert "Ann Peeters" in page and "Bart Peeters" in page and "bart@example.test" in page
    bart = db.exec(select(User).where(User.email == "bart@example.test")).one()
    assert bart.password_hash is None and bart.locale == "nl" and bart.phone == "+32 470 12 34 56"
    assert (
        Role.GUARDIAN.value
        in db.exec(select(Membership.role).where(Membership.user_id == bart.id)).all()
    )

    listing = client.get("/staff/children").text
    assert "Peeters, Lotte" in listing and "Swimming, U10" in listing
    assert f'href="/staff/children/{child.id}"' in listing
    assert f'href="/staff/children/{child.id}/edit"' in listing
    assert 'href="/staff/import"' in listing and 'href="/staff/children/new"' in listing
    assert _actions(db, org)[-3:] == [
        "people.child_created",
        "people.guardian_linked",
        "people.guardian_linked",
    ]
    created = _event(db, "people.child_created")
    assert created.actor_id == staff.id and created.subject_type == "child"
    assert sorted(created.details["group_ids"]) == sorted([u10.id, swim.id])
    linked = _event(db, "people.guardian_linked")
    assert linked.details == {"guardian_id": bart.id, "relation": "guardian"}


@pytest.mark.parametrize(
    ("overrides", "messages"),
    [
        (
            {"first_name": " ", "last_name": ""},
            ["Enter the child's first name.", "Enter the child's last name."],
        ),
        ({"birth_date": "2015-02-30"}, ["Enter a valid birth date."]),
        ({"birth_date": ""}, ["Enter a valid birth date."]),
        ({"birth_date": "2027-01-01"}, ["The birth date cannot be in the future."]),
        ({"birth_date": "1990-05-01"}, ["more than 25 years ago"]),
        ({"external_id": "M-1"}, ["Another child already has this external id."]),
    ],
)
def test_bad_child_details_are_refused_and_the_input_kept(
    client, db, org, signed_in, overrides, messages
):
    existing = factories.child(db, org, first_name="Existing")
    existing.external_id = "M-1"
    db.add(existing)
    team = factories.group(db, org, "U10")
    form = _child_form(**overrides)
    response = signed_in("/staff/children/new", **form, group_ids=[team.id])
    assert response.status_code == 400
    for message in messages:
        assert message in response.text
    for field in ("first_name", "last_name", "birth_date", "external_id"):
        assert f'name="{field}" type="' in response.text
        if form[field].strip():
            assert f'value="{form[field]}"' in response.text
    assert f'value="{team.id}" checked' in response.text
    assert db.exec(select(Child).where(Child.organisation_id == org.id)).all() == [existing]


def test_a_birth_date_typed_the_belgian_way_is_understood(client, db, org, signed_in):
    response = signed_in("/staff/children/new", **_child_form(birth_date="3/9/2015"))
    assert response.status_code == 303
    child = db.exec(select(Child).where(Child.organisation_id == org.id)).one()
    assert child.birth_date == date(2015, 9, 3)


def test_editing_a_child_changes_details_and_groups_but_keeps_archived_groups(
    client, db, org, signed_in
):
    kid = factories.child(db, org, first_name="Noah")
    old, new, archived = (factories.group(db, org, n) for n in ("U8", "U10", "Old team"))
    for group in (old, archived):
        db.add(ChildGroup(child_id=kid.id, group_id=group.id))
    db.flush()
    signed_in(f"/staff/groups/{archived.id}/archive")
    page = client.get(f"/staff/children/{kid.id}/edit").text
    assert "Old team" in page and "Archived" in page

    response = signed_in(
        f"/staff/children/{kid.id}/edit",
        **_child_form(first_name="Noah", last_name="Janssens", external_id="77"),
        group_ids=[new.id],
    )
    assert response.status_code == 303
    assert "Your changes were saved." in client.get(response.headers["location"]).text
    db.refresh(kid)
    assert (kid.last_name, kid.birth_date, kid.external_id) == (
        "Janssens",
        date(2016, 4, 12),
        "77",
    )
    groups = set(db.exec(select(ChildGroup.group_id).where(ChildGroup.child_id == kid.id)))
    assert groups == {new.id, archived.id}
    assert _event(db, "people.child_updated").details == {
        "changed": ["last_name", "birth_date", "external_id", "groups"]
    }


def test_a_refused_edit_changes_nothing_and_keeps_the_input(client, db, org, signed_in):
    kid = factories.child(db, org, first_name="Noah")
    response = signed_in(
        f"/staff/children/{kid.id}/edit",
        **_child_form(first_name="Noé", birth_date="2099-01-01"),
    )
    assert response.status_code == 400
    assert 'value="Noé"' in response.text and 'value="2099-01-01"' in response.text
    db.refresh(kid)
    assert kid.first_name == "Noah"
    assert "people.child_updated" not in _actions(db, org)


def test_children_are_archived_and_restored(client, db, org, signed_in):
    kid = factories.child(db, org, first_name="Zoë", last_name="Claes")
    response = signed_in(f"/staff/children/{kid.id}/archive")
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "Archived" in page and f'action="/staff/children/{kid.id}/restore"' in page
    assert "Claes, Zoë" not in client.get("/staff/children").text
    archived = client.get("/staff/children?archived=1").text
    assert "Claes, Zoë" in archived and "Archived" in archived
    db.refresh(kid)
    assert kid.archived_at is not None

    assert signed_in(f"/staff/children/{kid.id}/restore").status_code == 303
    assert "Claes, Zoë" in client.get("/staff/children").text
    assert _actions(db, org)[-2:] == ["people.child_archived", "people.child_restored"]


def test_the_children_list_searches_by_name_and_filters_by_group(client, db, org, signed_in):
    u10, u14 = factories.group(db, org, "U10"), factories.group(db, org, "U14")
    lotte = factories.child(db, org, first_name="Lotte", last_name="Peeters")
    noah = factories.child(db, org, first_name="Noah", last_name="Peeters")
    emma = factories.child(db, org, first_name="Emma", last_name="Dubois")
    for kid, group in ((lotte, u10), (noah, u14), (emma, u10)):
        db.add(ChildGroup(child_id=kid.id, group_id=group.id))
    db.flush()

    def names(url: str) -> set[str]:
        page = client.get(url).text
        return {n for n in ("Lotte", "Noah", "Emma") if f", {n}<" in page}

    assert names("/staff/children") == {"Lotte", "Noah", "Emma"}
    assert names("/staff/children?q=peet") == {"Lotte", "Noah"}
    assert names("/staff/children?q=lotte+PEETERS") == {"Lotte"}
    assert names(f"/staff/children?group={u10.id}") == {"Lotte", "Emma"}
    assert names(f"/staff/children?q=peeters&group={u10.id}") == {"Lotte"}
    assert names("/staff/children?q=%25") == set()  # a LIKE wildcard is just a character
    assert names("/staff/children?group=oops") == {"Lotte", "Noah", "Emma"}
    assert "No child matches your search." in client.get("/staff/children?q=zzz").text


# --- guardians --------------------------------------------------------------------------------


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
    event = _event(db, "people.guardian_unlinked")
    assert event.subject_id == str(lotte.id)
    assert event.details["guardian_id"] == ann.id and event.details["left_organisation"] is False

    # Bart's last child: he leaves the organisation's guardians.
    signed_in(f"/staff/children/{lotte.id}/guardians/{bart.id}/remove")
    assert not db.exec(
        select(Membership).where(
            Membership.user_id == bart.id, Membership.organisation_id == org.id
        )
    ).first()
    assert _event(db, "people.guardian_unlinked").details["left_organisation"] is True
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
    assert _event(db, "people.guardian_updated").details == {
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
    event = _event(db, "people.guardian_archived")
    assert event.subject_type == "user" and event.subject_id == str(ann.id)
    assert event.details == {"child_ids": sorted([lotte.id, noah.id]), "revoked_links": [link.id]}
    assert client.get(f"/staff/guardians/{ann.id}/edit").status_code == 404


# --- access -----------------------------------------------------------------------------------


def _member_urls(child_id: int, group_id: int, guardian_id: int) -> list[tuple[str, str]]:
    return [
        ("GET", f"/staff/groups/{group_id}/edit"),
        ("POST", f"/staff/groups/{group_id}/edit"),
        ("POST", f"/staff/groups/{group_id}/archive"),
        ("POST", f"/staff/groups/{group_id}/restore"),
        ("GET", f"/staff/children/{child_id}/edit"),
        ("POST", f"/staff/children/{child_id}/edit"),
        ("POST", f"/staff/children/{child_id}/guardians"),
        ("POST", f"/staff/children/{child_id}/guardians/{guardian_id}/remove"),
        ("POST", f"/staff/children/{child_id}/archive"),
        ("POST", f"/staff/children/{child_id}/restore"),
        ("GET", f"/staff/guardians/{guardian_id}/edit"),
        ("POST", f"/staff/guardians/{guardian_id}/edit"),
        ("POST", f"/staff/guardians/{guardian_id}/archive"),
    ]


def test_another_organisations_ids_are_not_found(client, db, org, signed_in):
    other = factories.organisation(db)
    parent = factories.user(db, other, Role.GUARDIAN)
    kid = factories.child(db, other, first_name="Vreemd", guardians=(parent,))
    team = factories.group(db, other, "Their team")
    form = {
        **_child_form(),
        "name": "Mine now",
        "full_name": "X",
        "email": "x@example.test",
        "locale": "nl",
    }
    # Keep the setup when a refused request rolls its own work back.
    db.commit()
    for method, url in _member_urls(kid.id, team.id, parent.id):
        response = client.get(url) if method == "GET" else signed_in(url, **form)
        assert response.status_code == 404, (method, url)
    db.refresh(kid)
    db.refresh(team)
    assert (kid.first_name, kid.archived_at, team.name) == ("Vreemd", None, "Their team")
    assert db.exec(select(Guardianship).where(Guardianship.child_id == kid.id)).one()
    assert client.get(f"/staff/children?group={team.id}").status_code == 200
    assert "Vreemd" not in client.get("/staff/children?archived=1").text
    assert parent.full_name not in client.get("/staff/guardians").text


def test_guardians_and_strangers_cannot_use_the_staff_pages(client, db, org):
    parent = factories.user(db, org, Role.GUARDIAN)
    kid = factories.child(db, org, guardians=(parent,))
    team = factories.group(db, org)
    urls = [
        ("GET", "/staff/groups"),
        ("POST", "/staff/groups"),
        ("GET", "/staff/children"),
        ("GET", "/staff/children/new"),
        ("POST", "/staff/children/new"),
        ("GET", "/staff/guardians"),
        *_member_urls(kid.id, team.id, parent.id),
    ]
    # Keep the setup when a refused request rolls its own work back.
    db.commit()
    for method, url in urls:
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login?next=")

    login(client, parent.email, factories.PASSWORD)
    token = csrf_from(client.get("/family").text)
    for method, url in urls:
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token, "name": "x"})
        assert response.status_code == 403, (method, url)
    db.refresh(kid)
    assert kid.archived_at is None
    # Only what the setup did is on record.
    assert sorted(_actions(db, org)) == [
        "people.child_created",
        "people.group_created",
        "people.guardian_linked",
    ]


def test_every_member_form_posts_with_a_csrf_token(client, db, org, signed_in):
    ann = factories.user(db, org, Role.GUARDIAN)
    kid = factories.child(db, org, guardians=(ann,))
    team = factories.group(db, org)
    for url in (
        "/staff/groups",
        f"/staff/groups/{team.id}/edit",
        "/staff/children/new",
        f"/staff/children/{kid.id}/edit",
        f"/staff/guardians/{ann.id}/edit",
    ):
        html = client.get(url).text
        main = html.split("<main", 1)[1]
        forms = main.split("<form")[1:]
        assert forms, url
        for form in forms:
            if 'method="post"' in form.split(">", 1)[0]:
                assert 'name="csrf_token"' in form, url
    assert client.post(f"/staff/children/{kid.id}/archive").status_code == 403
