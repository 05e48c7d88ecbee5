"""Role checks on pages and on the API, and bearer tokens."""

from __future__ import annotations

from consentlens.auth.models import Role
from consentlens.consent.uses import Use
from tests import factories
from tests.conftest import bearer, login


def test_token_endpoint_issues_a_bearer_token(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    response = client.post(
        "/api/v1/auth/token", data={"username": staff.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["email"] == staff.email and me.json()["roles"] == ["staff"]


def test_token_endpoint_refuses_wrong_credentials_and_throttles(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    for _ in range(5):
        response = client.post(
            "/api/v1/auth/token", data={"username": staff.email, "password": "bad-password"}
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    response = client.post(
        "/api/v1/auth/token", data={"username": staff.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 429


def test_api_needs_a_token(client):
    response = client.get("/api/v1/organisation")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_forged_token_is_refused(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer eyJ1aWQiOjF9.forged"})
    assert response.status_code == 401


def test_guardian_token_gets_403_on_staff_endpoints(client, db):
    org = factories.organisation(db)
    guardian = factories.user(db, org, Role.GUARDIAN)
    response = client.get(
        "/api/v1/organisation", headers=bearer(client, guardian.email, factories.PASSWORD)
    )
    assert response.status_code == 403


def test_staff_token_reads_the_organisation_and_its_uses(client, db):
    org = factories.organisation(db, name="VC Zeester")
    staff = factories.user(db, org, Role.STAFF)
    response = client.get(
        "/api/v1/organisation", headers=bearer(client, staff.email, factories.PASSWORD)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "VC Zeester" and body["co_consent_age"] == 12
    assert [use["code"] for use in body["uses"]] == list(Use)
    assert body["uses"][1]["labels"] == {
        "nl": "Website van de club",
        "fr": "Site web du club",
        "en": "Club website",
    }


def test_a_session_cookie_does_not_authenticate_the_api(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    login(client, staff.email, factories.PASSWORD)
    assert client.get("/admin").status_code == 200
    assert client.get("/api/v1/organisation").status_code == 401


def test_guardian_page_session_gets_403_on_the_admin_page(client, db):
    org = factories.organisation(db)
    guardian = factories.user(db, org, Role.GUARDIAN)
    login(client, guardian.email, factories.PASSWORD)
    assert client.get("/admin").status_code == 403
    assert client.get("/family").status_code == 200
    assert client.get("/", follow_redirects=False).headers["location"] == "/family"


def test_staff_are_not_guardians(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    login(client, staff.email, factories.PASSWORD)
    assert client.get("/family").status_code == 403


def test_a_user_without_membership_is_not_signed_in(client, db):
    from consentlens.auth import service

    loner = service.create_user(
        session=db, email="loner@example.test", full_name="Loner", password=factories.PASSWORD
    )
    token = client.post(
        "/api/v1/auth/token", data={"username": loner.email, "password": factories.PASSWORD}
    )
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_coach_who_is_also_a_parent_has_both_roles(client, db):
    from consentlens.auth import service

    org = factories.organisation(db)
    coach = factories.user(db, org, Role.STAFF)
    service.add_membership(session=db, user=coach, organisation=org, role=Role.GUARDIAN)
    me = client.get("/api/v1/me", headers=bearer(client, coach.email, factories.PASSWORD)).json()
    assert me["roles"] == ["guardian", "staff"]
