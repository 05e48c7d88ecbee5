"""Staff pages for groups, as staff use them."""

from __future__ import annotations

import pytest
from sqlmodel import select

from consentlens.people.models import ChildGroup, Group
from tests import factories
from tests.people.members import actions, last_event


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
    assert actions(db, org) == [
        "people.group_created",
        "people.group_renamed",
        "people.group_archived",
        "people.group_restored",
    ]
    renamed = last_event(db, "people.group_renamed")
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
