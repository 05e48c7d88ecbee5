"""Who may use the member pages: other clubs' ids, guardians, strangers, forms without CSRF."""

from __future__ import annotations

from sqlmodel import select

from consentlens.auth.models import Role
from consentlens.people.models import Guardianship
from tests import factories
from tests.conftest import csrf_from, login
from tests.people.members import actions, child_form


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
        **child_form(),
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
    assert sorted(actions(db, org)) == [
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
