"""Sessions and tokens the server can end: sign-out, password change and reset, link revocation,
deactivated accounts, and the limits of a session opened by a personal link."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from consentlens.audit.service import Origin
from consentlens.auth import links
from consentlens.auth import service as accounts
from consentlens.auth.models import ApiToken, AuthSession, Role
from consentlens.core.security import verify_password
from consentlens.core.tables import utcnow
from consentlens.main import SESSION_COOKIE
from tests import factories
from tests.conftest import bearer, csrf_from, login


def _second_client(client: TestClient) -> TestClient:
    return TestClient(client.app, base_url="http://testserver", follow_redirects=False)


def test_a_cookie_replayed_after_sign_out_opens_nothing(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    login(client, staff.email, factories.PASSWORD)
    cookie = client.cookies[SESSION_COOKIE]
    assert client.get("/admin").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/admin").text)})
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    response = client.get("/admin")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_password_change_needs_the_current_password(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    login(client, staff.email, factories.PASSWORD)
    token = csrf_from(client.get("/account/password").text)
    new = "a-brand-new-password"
    response = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "wrong-one!!",
            "password": new,
            "repeat": new,
        },
        headers={"accept-language": "en"},
    )
    assert response.status_code == 400
    assert "current password is not right" in response.text
    db.refresh(staff)
    assert verify_password(password=factories.PASSWORD, password_hash=staff.password_hash)


def test_a_password_change_ends_every_other_session_and_token(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    other = _second_client(client)
    with other:
        login(other, staff.email, factories.PASSWORD)
        headers = bearer(client, staff.email, factories.PASSWORD)
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        login(client, staff.email, factories.PASSWORD)
        token = csrf_from(client.get("/account/password").text)
        new = "a-brand-new-password"
        response = client.post(
            "/account/password",
            data={
                "csrf_token": token,
                "current_password": factories.PASSWORD,
                "password": new,
                "repeat": new,
            },
        )
        assert response.status_code == 200
        # This browser stays signed in; the other one and the API token do not.
        assert client.get("/admin").status_code == 200
        assert other.get("/admin").status_code == 303
        assert client.get("/api/v1/me", headers=headers).status_code == 401
        login(other, staff.email, new)
        assert other.get("/admin").status_code == 200


def test_api_tokens_expire_and_can_be_revoked(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    headers = bearer(client, staff.email, factories.PASSWORD)
    assert headers["Authorization"].startswith("Bearer cl_")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/token/revoke", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401

    headers = bearer(client, staff.email, factories.PASSWORD)
    row = db.exec(select(ApiToken).where(ApiToken.revoked_at.is_(None))).one()  # type: ignore[union-attr]
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.flush()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    # Only a hash is kept: the secret itself is nowhere in the database.
    secret = headers["Authorization"].removeprefix("Bearer ")
    assert all(secret not in (t.token_hash or "") for t in db.exec(select(ApiToken)))


def test_a_deactivated_account_loses_its_sessions(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    login(client, staff.email, factories.PASSWORD)
    headers = bearer(client, staff.email, factories.PASSWORD)
    staff.is_active = False
    db.add(staff)
    # Committed: a refused request rolls back what the test left pending.
    db.commit()
    assert client.get("/admin").status_code == 303
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def _family(db):
    org = factories.organisation(db, name="Sportclub Noord")
    parent = factories.user(db, org, Role.GUARDIAN, password=None)
    kid = factories.child(db, org, guardians=(parent,))
    link = links.create_link(session=db, organisation=org, now=utcnow(), guardian=parent)
    return org, parent, kid, link


def _open_link(client: TestClient, link) -> None:
    response = client.get(f"/c/{links.token_for(link)}")
    assert response.status_code == 303 and response.headers["location"] == "/consent"


def test_a_link_session_answers_consent_and_nothing_else(client, db):
    _org, parent, kid, link = _family(db)
    _open_link(client, link)
    page = client.get("/consent", headers={"accept-language": "en"})
    assert page.status_code == 200 and kid.first_name in page.text
    for path in ("/family", "/gallery", "/account/password", "/admin", "/staff/children"):
        response = client.get(path, headers={"accept-language": "en"})
        assert response.status_code == 403, path
        assert "personal link" in response.text
    response = client.get(f"/consent/children/{kid.id}/form.pdf")
    assert response.status_code == 403
    # It is no password session: changing the password is refused, not merely hidden.
    new = "a-brand-new-password"
    response = client.post(
        "/account/password",
        data={"csrf_token": csrf_from(page.text), "password": new, "repeat": new},
    )
    assert response.status_code == 403
    db.refresh(parent)
    assert parent.password_hash is None


def test_revoking_a_link_ends_the_session_it_opened(client, db):
    org, _parent, _kid, link = _family(db)
    staff = factories.user(db, org, Role.STAFF)
    _open_link(client, link)
    assert client.get("/consent").status_code == 200
    links.revoke(session=db, link=link, actor=staff, now=utcnow(), origin=Origin())
    db.commit()
    response = client.get("/consent")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    row = db.exec(select(AuthSession).where(AuthSession.link_id == link.id)).one()
    assert row.revoked_at is not None


def test_a_link_never_opens_an_account_with_staff_roles_anywhere(client, db):
    org_a = factories.organisation(db)
    admin_a = factories.user(db, org_a, Role.ADMIN)
    org_b = factories.organisation(db)
    # Even where the admin really is a parent at club B, B's link is not a way in.
    accounts.add_membership(session=db, user=admin_a, organisation=org_b, role=Role.GUARDIAN)
    factories.child(db, org_b, guardians=(admin_a,))
    link = links.create_link(session=db, organisation=org_b, now=utcnow(), guardian=admin_a)
    response = client.get(f"/c/{links.token_for(link)}", headers={"accept-language": "en"})
    assert response.status_code == 403
    assert "Sign in with your e-mail address and password" in response.text
    assert client.get("/consent").status_code == 303
    assert client.get("/admin").status_code == 303
    assert db.exec(select(AuthSession).where(AuthSession.link_id == link.id)).first() is None


@pytest.mark.parametrize("via", ["code", "link"])
def test_a_link_session_stays_within_the_organisation_that_made_it(client, db, via):
    # A parent at two clubs: club B's link answers for B's child only.
    org_a = factories.organisation(db)
    parent = factories.user(db, org_a, Role.GUARDIAN, password=None)
    kid_a = factories.child(db, org_a, guardians=(parent,), first_name="Anna")
    org_b = factories.organisation(db)
    accounts.add_membership(session=db, user=parent, organisation=org_b, role=Role.GUARDIAN)
    kid_b = factories.child(db, org_b, guardians=(parent,), first_name="Bram")
    link = links.create_link(session=db, organisation=org_b, now=utcnow(), guardian=parent)
    if via == "link":
        _open_link(client, link)
    else:
        token = csrf_from(client.get("/code").text)
        response = client.post("/code", data={"csrf_token": token, "code": link.short_code})
        assert response.status_code == 303
    page = client.get("/consent")
    assert kid_b.first_name in page.text and kid_a.first_name not in page.text


def test_a_reset_link_sent_to_the_address_sets_a_password_once(client, db, inbox):
    org = factories.organisation(db)
    parent = factories.user(db, org, Role.GUARDIAN, password=None)
    factories.child(db, org, guardians=(parent,))
    token = csrf_from(client.get("/password/forgot").text)
    response = client.post("/password/forgot", data={"csrf_token": token, "email": parent.email})
    assert response.status_code == 200
    # The same answer for an address without an account: nobody learns which exist.
    unknown = client.post(
        "/password/forgot", data={"csrf_token": token, "email": "nobody@example.test"}
    )
    assert unknown.status_code == 200
    assert inbox.to("nobody@example.test") == []
    [mail] = inbox.to(parent.email)
    path = inbox.link_path(mail, prefix="/password/reset/")
    form = client.get(path)
    assert form.status_code == 200
    new = "a-brand-new-password"
    done = client.post(
        path, data={"csrf_token": csrf_from(form.text), "password": new, "repeat": new}
    )
    assert done.status_code == 200
    login(client, parent.email, new)
    assert client.get("/family").status_code == 200
    # Used once, it is spent.
    assert client.get(path).status_code == 410


def test_a_childs_own_link_session_finds_its_way_back_from_the_front_door(client, db):
    org = factories.organisation(db)
    kid = factories.child(db, org, birth_date=date(2012, 5, 1))
    link = links.create_link(session=db, organisation=org, now=utcnow(), child_id=kid.id)
    _open_link(client, link)
    response = client.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/consent"
    assert client.get("/consent").status_code == 200
    assert client.get("/family").status_code == 303


def test_reset_links_are_limited_per_address(db, inbox):
    from consentlens.auth import passwords

    org = factories.organisation(db)
    parent = factories.user(db, org, Role.GUARDIAN)
    asks = [
        passwords.request_reset(
            session=db, email=parent.email, now=utcnow(), origin=Origin(ip=f"10.0.0.{n}")
        )
        for n in range(passwords.RESETS_PER_HOUR + 1)
    ]
    assert asks == [True] * passwords.RESETS_PER_HOUR + [False]
    assert inbox.to(parent.email) == []  # mail leaves with the commit, not before
    db.commit()
    assert len(inbox.to(parent.email)) == passwords.RESETS_PER_HOUR
