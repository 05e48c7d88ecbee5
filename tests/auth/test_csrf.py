"""Every HTML form POST needs the session's CSRF token."""

from __future__ import annotations

from fastapi.routing import APIRoute

from consentlens.auth.models import Role
from consentlens.core.security import verify_csrf
from consentlens.wiring import ROUTERS
from tests import factories
from tests.conftest import csrf_from, login


def test_login_without_a_token_is_rejected(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": staff.email, "password": factories.PASSWORD},
        headers={"accept-language": "en"},
    )
    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert client.get("/admin").status_code == 303


def test_a_token_from_another_session_is_rejected(client, app, db):
    from fastapi.testclient import TestClient

    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    with TestClient(app) as attacker:
        foreign_token = csrf_from(attacker.get("/login").text)
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": staff.email, "password": factories.PASSWORD, "csrf_token": foreign_token},
    )
    assert response.status_code == 403


def test_logout_without_a_token_keeps_the_session(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    login(client, staff.email, factories.PASSWORD)
    assert client.post("/logout").status_code == 403
    assert client.get("/admin").status_code == 200


def _has_csrf(dependant) -> bool:
    return any(dep.call is verify_csrf or _has_csrf(dep) for dep in dependant.dependencies)


def test_every_html_form_route_checks_csrf():
    unsafe = [
        route
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        and route.methods & {"POST", "PUT", "PATCH", "DELETE"}
        and not route.path.startswith("/api/")
    ]
    assert unsafe, "expected HTML form routes"
    assert [r.path for r in unsafe if not _has_csrf(r.dependant)] == []
