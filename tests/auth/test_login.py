"""Signing in and out through the real pages, sessions, throttling and CSRF."""

from __future__ import annotations

from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role
from consentlens.main import SESSION_COOKIE
from tests import factories
from tests.conftest import csrf_from, login


def test_login_page_carries_a_csrf_token_and_labelled_fields(client):
    page = client.get("/login", headers={"accept-language": "en"})
    assert page.status_code == 200
    assert csrf_from(page.text)
    assert '<label for="email">' in page.text and '<label for="password">' in page.text


def test_staff_login_lands_on_the_admin_home(client, db):
    org = factories.organisation(db, name="KSV Testclub")
    staff = factories.user(db, org, Role.STAFF)
    login(client, staff.email, factories.PASSWORD)
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert "KSV Testclub" in home.text
    assert home.url.path == "/admin"


def test_the_session_cookie_is_signed_httponly_and_lax(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.ADMIN)
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"email": staff.email, "password": factories.PASSWORD, "csrf_token": token}
    )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    # Tampering with the signed value signs the user out.
    genuine = client.cookies[SESSION_COOKIE]
    assert client.get("/admin").status_code == 200
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, genuine[:-4] + "AAAA")
    response = client.get("/admin")
    assert response.request.headers["cookie"] == f"{SESSION_COOKIE}={genuine[:-4]}AAAA"
    assert response.status_code == 303


def test_email_is_case_insensitive(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    login(client, "  " + staff.email.upper(), factories.PASSWORD)
    assert client.get("/admin").status_code == 200


def test_wrong_password_is_refused_with_a_clear_message(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": staff.email, "password": "wrong-password", "csrf_token": token},
        headers={"accept-language": "en"},
    )
    assert response.status_code == 400
    assert "do not match" in response.text
    assert staff.email in response.text  # the address is kept, only the password is retyped
    assert client.get("/admin").status_code == 303
    failures = db.exec(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
    assert [event.details["email"] for event in failures] == [staff.email]


def test_unknown_user_gets_the_same_message(client, db):
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": "nobody@example.test", "password": "whatever-123", "csrf_token": token},
        headers={"accept-language": "en"},
    )
    assert response.status_code == 400
    assert "do not match" in response.text


def test_empty_fields_are_explained(client):
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": "", "password": "", "csrf_token": token},
        headers={"accept-language": "fr"},
    )
    assert response.status_code == 400
    assert "Indiquez votre adresse e-mail et votre mot de passe." in response.text


def test_throttling_after_repeated_failures(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    token = csrf_from(client.get("/login").text)
    for _ in range(5):
        response = client.post(
            "/login", data={"email": staff.email, "password": "nope-nope-nope", "csrf_token": token}
        )
        assert response.status_code == 400
    # Locked now, even with the right password, and told so.
    response = client.post(
        "/login",
        data={"email": staff.email, "password": factories.PASSWORD, "csrf_token": token},
        headers={"accept-language": "nl"},
    )
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Te veel mislukte pogingen" in response.text
    assert client.get("/admin").status_code == 303
    # Another account is not locked by this one's failures.
    other = factories.user(db, org, Role.STAFF)
    login(client, other.email, factories.PASSWORD)


def test_throttle_releases_after_the_window(db):
    from datetime import timedelta

    from consentlens.audit.service import Origin
    from consentlens.auth import service
    from consentlens.core.tables import utcnow

    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    start = utcnow() - timedelta(minutes=20)
    for minute in range(5):
        result = service.login(
            session=db,
            email=staff.email,
            password="bad-password-1",
            origin=Origin(ip="10.9.9.9"),
            now=start + timedelta(minutes=minute),
        )
        assert result.outcome is service.LoginOutcome.INVALID
    locked = service.login(
        session=db,
        email=staff.email,
        password=factories.PASSWORD,
        origin=Origin(ip="10.9.9.9"),
        now=start + timedelta(minutes=6),
    )
    assert locked.outcome is service.LoginOutcome.THROTTLED
    later = service.login(
        session=db,
        email=staff.email,
        password=factories.PASSWORD,
        origin=Origin(ip="10.9.9.9"),
        now=start + timedelta(minutes=16),
    )
    assert later.outcome is service.LoginOutcome.OK


def test_logout_ends_the_session(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    login(client, staff.email, factories.PASSWORD)
    page = client.get("/admin")
    response = client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    assert client.get("/admin").status_code == 303


def test_next_only_redirects_within_the_site(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "email": staff.email,
            "password": factories.PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/steal",
        },
    )
    assert response.headers["location"] == "/"


def test_anonymous_visitors_are_sent_to_login_and_back(client, db):
    response = client.get("/admin")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin"
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    page = client.get(response.headers["location"])
    done = client.post(
        "/login",
        data={
            "email": staff.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_from(page.text),
            "next": "/admin",
        },
    )
    assert done.headers["location"] == "/admin"


def test_a_deactivated_user_is_signed_out(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    login(client, staff.email, factories.PASSWORD)
    staff.is_active = False
    db.add(staff)
    db.flush()
    assert client.get("/admin").status_code == 303


def test_guesses_from_one_address_do_not_lock_the_owner_out_from_another(app, client, db):
    from fastapi.testclient import TestClient

    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    token = csrf_from(client.get("/login").text)
    for _ in range(5):
        response = client.post(
            "/login", data={"email": staff.email, "password": "nope-nope-nope", "csrf_token": token}
        )
        assert response.status_code == 400
    locked = client.post(
        "/login", data={"email": staff.email, "password": factories.PASSWORD, "csrf_token": token}
    )
    assert locked.status_code == 429
    # The owner, at home: another address, the same account, signs in at once.
    owner = TestClient(
        app, base_url="http://testserver", follow_redirects=False, client=("198.51.100.7", 40000)
    )
    login(owner, staff.email, factories.PASSWORD)
    assert owner.get("/admin").status_code == 200


def _attempt(db, email: str, ip: str, password: str = "bad-password-1", *, now=None):
    from consentlens.audit.service import Origin
    from consentlens.auth import service

    return service.login(
        session=db, email=email, password=password, origin=Origin(ip=ip), now=now
    ).outcome


def test_one_address_guessing_at_many_accounts_is_stopped(db):
    from consentlens.auth.service import LoginOutcome

    org = factories.organisation(db)
    accounts = [factories.user(db, org, Role.STAFF) for _ in range(5)]
    # Four guesses at each of five accounts: under the per-pair limit, at the per-address one.
    for account in accounts:
        for _ in range(4):
            assert _attempt(db, account.email, "10.1.1.1") is LoginOutcome.INVALID
    fresh = factories.user(db, org, Role.STAFF)
    assert _attempt(db, fresh.email, "10.1.1.1", factories.PASSWORD) is LoginOutcome.THROTTLED
    assert _attempt(db, fresh.email, "10.1.1.2", factories.PASSWORD) is LoginOutcome.OK


def test_guesses_spread_over_many_addresses_meet_the_account_ceiling(db, monkeypatch):
    from consentlens.auth.service import LoginOutcome
    from consentlens.core.config import get_settings

    monkeypatch.setattr(get_settings(), "login_max_failures_per_account", 12)
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    for n in range(12):
        assert _attempt(db, staff.email, f"10.2.0.{n // 4}") is LoginOutcome.INVALID
    assert _attempt(db, staff.email, "10.2.9.9", factories.PASSWORD) is LoginOutcome.THROTTLED


def test_a_success_clears_the_count_of_its_own_address(db):
    from consentlens.auth.service import LoginOutcome

    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    for _ in range(4):
        assert _attempt(db, staff.email, "10.3.3.3") is LoginOutcome.INVALID
    assert _attempt(db, staff.email, "10.3.3.3", factories.PASSWORD) is LoginOutcome.OK
    # Two typos later the owner is not locked: the four before the success no longer count.
    for _ in range(2):
        assert _attempt(db, staff.email, "10.3.3.3") is LoginOutcome.INVALID
    assert _attempt(db, staff.email, "10.3.3.3", factories.PASSWORD) is LoginOutcome.OK


def test_the_language_the_sign_in_page_was_read_in_is_kept_after_it(client, db):
    org = factories.organisation(db)
    dutch = factories.user(db, org, Role.STAFF, locale="nl")
    fresh = factories.user(db, org, Role.STAFF)
    for account in (dutch, fresh):
        client.cookies.clear()
        page = client.get("/login", headers={"accept-language": "en-GB,en;q=0.9"})
        assert 'lang="en"' in page.text
        response = client.post(
            "/login",
            data={
                "email": account.email,
                "password": factories.PASSWORD,
                "csrf_token": csrf_from(page.text),
                "shown_locale": "en",
            },
            headers={"accept-language": "en-GB,en;q=0.9"},
        )
        assert response.status_code == 303
        home = client.get("/admin", headers={"accept-language": "en-GB,en;q=0.9"})
        # Not Dutch all of a sudden, though the first account's language is Dutch.
        assert 'lang="en"' in home.text
    db.refresh(dutch)
    db.refresh(fresh)
    # An account's own language is kept for its e-mails; one with none takes what was used.
    assert dutch.locale == "nl" and fresh.locale == "en"


def test_a_refused_sign_in_answers_in_the_language_of_the_form(client, db):
    page = client.get("/login", headers={"accept-language": "fr"})
    refused = client.post(
        "/login",
        data={
            "email": "x@example.test",
            "password": "wrong",
            "csrf_token": csrf_from(page.text),
            "shown_locale": "fr",
        },
        headers={"accept-language": "nl"},
    )
    assert refused.status_code == 400 and 'lang="fr"' in refused.text
