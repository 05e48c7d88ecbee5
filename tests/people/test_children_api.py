"""The children API: list, filter, read and create, for staff with a bearer token."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role, User
from consentlens.people.models import Child, ChildGroup, Guardianship
from tests import factories
from tests.conftest import bearer


@pytest.fixture
def org(db):
    return factories.organisation(db, name="KSV Voorbeeld")


@pytest.fixture
def staff(db, org):
    return factories.user(db, org, Role.STAFF)


@pytest.fixture
def auth(client, db, staff):
    headers = bearer(client, staff.email, factories.PASSWORD)
    # Keep the setup when a refused request rolls its own work back.
    db.commit()
    return headers


def _payload(**overrides):
    payload = {
        "first_name": "Lotte",
        "last_name": "Peeters",
        "birth_date": "2016-04-12",
        "external_id": "M-1",
        "group_ids": [],
        "guardians": [
            {
                "full_name": "Ann Peeters",
                "email": "Ann@Example.test",
                "phone": "+32 470 12 34 56",
                "locale": "nl",
            },
            {"full_name": "Bart Peeters", "email": "bart@example.test", "relation": "guardian"},
        ],
    }
    return {**payload, **overrides}


def test_staff_create_a_child_with_groups_and_guardians(client, db, org, staff, auth):
    u10, swim = factories.group(db, org, "U10"), factories.group(db, org, "Swimming")
    db.commit()
    response = client.post(
        "/api/v1/children", json=_payload(group_ids=[u10.id, swim.id]), headers=auth
    )
    assert response.status_code == 201, response.text
    body = response.json()
    child = db.get(Child, body["id"])
    assert child is not None and child.organisation_id == org.id
    ann = db.exec(select(User).where(User.email == "ann@example.test")).one()
    bart = db.exec(select(User).where(User.email == "bart@example.test")).one()
    assert ann.password_hash is None and ann.locale == "nl" and ann.phone == "+32 470 12 34 56"
    assert body == {
        "id": child.id,
        "first_name": "Lotte",
        "last_name": "Peeters",
        "birth_date": "2016-04-12",
        "external_id": "M-1",
        "group_ids": [swim.id, u10.id],
        "guardians": [
            {"id": ann.id, "full_name": "Ann Peeters", "email": ann.email, "relation": "parent"},
            {
                "id": bart.id,
                "full_name": "Bart Peeters",
                "email": bart.email,
                "relation": "guardian",
            },
        ],
        "archived": False,
    }
    assert client.get(f"/api/v1/children/{child.id}", headers=auth).json() == body
    created = db.exec(select(AuditEvent).where(AuditEvent.action == "people.child_created")).all()
    assert [e.actor_id for e in created if e.subject_id == str(child.id)] == [staff.id]


def test_a_sibling_reuses_the_guardians_account(client, db, org, auth):
    first = client.post("/api/v1/children", json=_payload(), headers=auth)
    second = client.post(
        "/api/v1/children",
        json=_payload(first_name="Noah", external_id=None, guardians=[_payload()["guardians"][0]]),
        headers=auth,
    )
    assert first.status_code == second.status_code == 201
    ann_id = second.json()["guardians"][0]["id"]
    assert ann_id == first.json()["guardians"][0]["id"]
    assert len(db.exec(select(User).where(User.email == "ann@example.test")).all()) == 1
    assert len(db.exec(select(Guardianship).where(Guardianship.guardian_id == ann_id)).all()) == 2


@pytest.mark.parametrize(
    ("overrides", "location", "message"),
    [
        ({"first_name": "  "}, ["body", "first_name"], "at least 1 character"),
        ({"birth_date": "2016-02-30"}, ["body", "birth_date"], "valid date"),
        ({"birth_date": "2027-01-01"}, ["body", "birth_date"], "cannot be in the future"),
        ({"birth_date": "1995-01-01"}, ["body", "birth_date"], "more than 25 years ago"),
        ({"external_id": "TAKEN"}, ["body", "external_id"], "already has this external id"),
        (
            {"guardians": [{"full_name": "Ann", "email": "ann-at-example"}]},
            ["body", "guardians", "0", "email"],
            "valid e-mail address",
        ),
        (
            {"guardians": [{"full_name": "", "email": "new@example.test"}]},
            ["body", "guardians", "0", "full_name"],
            "guardian's name",
        ),
        (
            {"guardians": [{"full_name": "Ann", "email": "a@example.test", "relation": "uncle"}]},
            ["body", "guardians", 0, "relation"],
            "Input should be",
        ),
        ({"group_ids": [999999]}, ["body", "group_ids"], "Choose groups from the list."),
    ],
)
def test_bad_input_is_422_and_writes_nothing(client, db, org, auth, overrides, location, message):
    taken = factories.child(db, org, first_name="Taken")
    taken.external_id = "TAKEN"
    db.add(taken)
    db.commit()
    response = client.post("/api/v1/children", json=_payload(**overrides), headers=auth)
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    assert any(p["loc"] == location and message in p["msg"] for p in problems), problems
    assert db.exec(select(Child).where(Child.organisation_id == org.id)).all() == [taken]
    guardian_emails = [
        "ann@example.test",
        "bart@example.test",
        "new@example.test",
        "a@example.test",
    ]
    assert db.exec(select(User).where(col(User.email).in_(guardian_emails))).all() == []


def test_another_organisations_or_an_archived_group_is_refused(client, db, org, auth):
    other = factories.organisation(db)
    theirs = factories.group(db, other, "Their team")
    old = factories.group(db, org, "Old team")
    old.archived_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.add(old)
    db.commit()
    for group_id in (theirs.id, old.id):
        response = client.post(
            "/api/v1/children", json=_payload(group_ids=[group_id]), headers=auth
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "group_ids"]


def test_the_list_filters_by_group_and_hides_archived_children(client, db, org, auth):
    u10, u14 = factories.group(db, org, "U10"), factories.group(db, org, "U14")
    ann = factories.user(db, org, Role.GUARDIAN, name="Ann")
    lotte = factories.child(db, org, first_name="Lotte", guardians=(ann,))
    noah = factories.child(db, org, first_name="Noah", last_name="Aerts")
    gone = factories.child(db, org, first_name="Gone")
    for kid, group in ((lotte, u10), (lotte, u14), (noah, u14), (gone, u10)):
        db.add(ChildGroup(child_id=kid.id, group_id=group.id))
    from consentlens.people import children as child_service

    child_service.set_child_archived(session=db, organisation=org, child=gone, archived=True)
    factories.child(db, factories.organisation(db), first_name="Elsewhere")
    db.commit()

    def names(query: str = "") -> list[str]:
        response = client.get(f"/api/v1/children{query}", headers=auth)
        assert response.status_code == 200, response.text
        return [c["first_name"] for c in response.json()]

    assert names() == ["Noah", "Lotte"]
    assert names(f"?group_id={u10.id}") == ["Lotte"]
    assert names(f"?group_id={u10.id}&include_archived=true") == ["Gone", "Lotte"]
    assert names("?include_archived=true") == ["Noah", "Gone", "Lotte"]
    listed = client.get(f"/api/v1/children?group_id={u14.id}", headers=auth).json()
    assert listed[1]["group_ids"] == [u10.id, u14.id]  # by group name
    assert listed[1]["guardians"] == [
        {"id": ann.id, "full_name": "Ann", "email": ann.email, "relation": "parent"}
    ]
    archived = client.get(f"/api/v1/children/{gone.id}", headers=auth).json()
    assert archived["archived"] is True
    foreign_group = factories.group(db, factories.organisation(db))
    db.commit()
    assert (
        client.get(f"/api/v1/children?group_id={foreign_group.id}", headers=auth).status_code == 422
    )


def test_another_organisations_child_is_not_found(client, db, auth):
    elsewhere = factories.child(db, factories.organisation(db))
    db.commit()
    response = client.get(f"/api/v1/children/{elsewhere.id}", headers=auth)
    assert response.status_code == 404
    assert client.get("/api/v1/children/999999", headers=auth).status_code == 404


def test_guardians_and_anonymous_callers_are_refused(client, db, org):
    parent = factories.user(db, org, Role.GUARDIAN)
    kid = factories.child(db, org, guardians=(parent,))
    db.commit()
    headers = bearer(client, parent.email, factories.PASSWORD)
    for method, url in (
        ("GET", "/api/v1/children"),
        ("GET", f"/api/v1/children/{kid.id}"),
        ("POST", "/api/v1/children"),
    ):
        response = client.request(method, url, headers=headers, json=_payload())
        assert response.status_code == 403, url
        assert client.request(method, url, json=_payload()).status_code == 401, url
    assert db.exec(select(Child).where(Child.organisation_id == org.id)).all() == [kid]


def test_the_session_cookie_does_not_open_the_api(client, db, org, staff):
    from tests.conftest import login

    login(client, staff.email, factories.PASSWORD)
    assert client.get("/api/v1/children").status_code == 401


def test_the_endpoints_are_documented(client):
    spec = client.get("/api/v1/openapi.json").json()
    listing = spec["paths"]["/api/v1/children"]
    assert "group ids and guardians" in listing["get"]["description"]
    assert "201" in listing["post"]["responses"] and "422" in listing["post"]["responses"]
    assert "never duplicated" in str(spec["components"]["schemas"]["GuardianIn"])
    assert "404" in spec["paths"]["/api/v1/children/{child_id}"]["get"]["responses"]
