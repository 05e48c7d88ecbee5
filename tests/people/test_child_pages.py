"""Staff pages for children (and the guardians on a child's page), as staff use them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from consentlens.auth.models import Membership, Role, User
from consentlens.people.models import Child, ChildGroup
from tests import factories
from tests.people.members import actions, child_form, last_event


def test_a_child_is_added_with_two_groups_and_two_guardians(client, db, org, staff, signed_in):
    u10, swim = factories.group(db, org, "U10"), factories.group(db, org, "Swimming")
    factories.group(db, org, "U14")
    response = signed_in(
        "/staff/children/new", **child_form(external_id="M-104"), group_ids=[u10.id, swim.id]
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
    assert actions(db, org)[-3:] == [
        "people.child_created",
        "people.guardian_linked",
        "people.guardian_linked",
    ]
    created = last_event(db, "people.child_created")
    assert created.actor_id == staff.id and created.subject_type == "child"
    assert sorted(created.details["group_ids"]) == sorted([u10.id, swim.id])
    linked = last_event(db, "people.guardian_linked")
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
    form = child_form(**overrides)
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
    response = signed_in("/staff/children/new", **child_form(birth_date="3/9/2015"))
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
        **child_form(first_name="Noah", last_name="Janssens", external_id="77"),
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
    assert last_event(db, "people.child_updated").details == {
        "changed": ["last_name", "birth_date", "external_id", "groups"]
    }


def test_a_refused_edit_changes_nothing_and_keeps_the_input(client, db, org, signed_in):
    kid = factories.child(db, org, first_name="Noah")
    response = signed_in(
        f"/staff/children/{kid.id}/edit",
        **child_form(first_name="Noé", birth_date="2099-01-01"),
    )
    assert response.status_code == 400
    assert 'value="Noé"' in response.text and 'value="2099-01-01"' in response.text
    db.refresh(kid)
    assert kid.first_name == "Noah"
    assert "people.child_updated" not in actions(db, org)


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
    assert actions(db, org)[-2:] == ["people.child_archived", "people.child_restored"]


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
