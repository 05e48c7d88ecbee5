"""Ids a database cannot hold: refused as 4xx on every route, API and pages, on both databases.

Ids are INTEGER columns: 32 bits on PostgreSQL, 64 on SQLite. 2**31 used to be a 500 on
PostgreSQL only (NumericValueOutOfRange), 2**63 and beyond a 500 on both (OverflowError)."""

from __future__ import annotations

import typing

import pytest
from annotated_types import Interval
from fastapi.routing import APIRoute
from sqlmodel import Session

from consentlens.auth.models import Role
from consentlens.core.db import SessionDep
from consentlens.core.ids import MAX_ID, parse_id
from consentlens.main import create_app
from consentlens.people.models import Child
from consentlens.wiring import ROUTERS
from tests import factories
from tests.conftest import bearer, csrf_from, login
from tests.factories import photos as make_photos

HUGE = [MAX_ID + 1, 2**63, 99999999999999999999]


@pytest.fixture
def club(client, db):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    db.commit()
    return c, ev


@pytest.mark.parametrize("huge", HUGE)
@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("/api/v1/children/{n}", ["path", "child_id"]),
        ("/api/v1/children/{n}/consents", ["path", "child_id"]),
        ("/api/v1/events/{n}", ["path", "event_id"]),
        ("/api/v1/photos/{n}", ["path", "photo_id"]),
        ("/api/v1/photos/{n}/image?use=website", ["path", "photo_id"]),
        ("/api/v1/children?group_id={n}", ["query", "group_id"]),
    ],
)
def test_the_api_refuses_a_huge_id_as_a_documented_422(client, db, club, path, loc, huge):
    c, _ = club
    auth = bearer(client, c.staff.email, factories.PASSWORD)
    response = client.get(path.format(n=huge), headers=auth)
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"] == loc and problem["type"] == "less_than_equal"


def test_the_api_refuses_huge_ids_in_bodies(client, db, club):
    c, _ = club
    auth = bearer(client, c.staff.email, factories.PASSWORD)
    decision = {"use": "website", "decision": "granted", "guardian_id": 2**63}
    response = client.post(f"/api/v1/children/{c.obama.id}/consents", json=decision, headers=auth)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "guardian_id"]
    event = {"name": "Cup", "date": "2026-11-21", "group_ids": [c.team.id, 10**20]}
    response = client.post("/api/v1/events", json=event, headers=auth)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "group_ids", 1]


def test_the_largest_id_is_accepted_and_simply_not_found(client, db, club):
    c, _ = club
    auth = bearer(client, c.staff.email, factories.PASSWORD)
    for path in ("/api/v1/children/{n}", "/api/v1/events/{n}", "/api/v1/photos/{n}"):
        response = client.get(path.format(n=MAX_ID), headers=auth)
        assert response.status_code == 404, response.text
        assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize(
    "path",
    [
        "/staff/children/{n}",
        "/staff/children/{n}/edit",
        "/staff/children/{n}/form.pdf",
        "/staff/groups/{n}/consents",
        "/staff/events/{n}",
        "/staff/photos/{n}",
        "/staff/photos/{n}/image?use=website",
        "/staff/gallery?before={n}",
        "/staff/guardians/{n}/edit",
        "/staff/publish?photo={n}",
    ],
)
def test_staff_pages_refuse_a_huge_id_with_a_4xx(client, db, club, path):
    c, _ = club
    login(client, c.staff.email, factories.PASSWORD)
    for huge in HUGE:
        response = client.get(path.format(n=huge))
        assert 400 <= response.status_code < 500, (huge, response.status_code, response.text)


def test_staff_forms_refuse_huge_ids_with_a_4xx(client, db, club):
    c, _ = club
    login(client, c.staff.email, factories.PASSWORD)
    token = csrf_from(client.get(f"/staff/children/{c.obama.id}/edit").text)
    form = {"csrf_token": token, "first_name": "Barack", "last_name": "Peeters"}
    for huge in HUGE:
        for path, data in [
            (f"/staff/children/{huge}/archive", {"csrf_token": token}),
            (f"/staff/children/{c.obama.id}/edit", {**form, "group_ids": [str(huge)]}),
            ("/staff/publish", {"csrf_token": token, "use": "website", "photo": [str(huge)]}),
        ]:
            response = client.post(path, data=data)
            assert 400 <= response.status_code < 500, (path, huge, response.status_code)


def test_the_family_gallery_refuses_a_huge_page_or_event(client, db, club):
    c, ev = club
    login(client, c.guardian.email, factories.PASSWORD)
    for huge in HUGE:
        for path in (
            f"/gallery/mine?before={huge}",
            f"/gallery/events/{ev.id}?before={huge}",
            f"/gallery/events/{huge}",
            f"/gallery/photos/{huge}",
        ):
            response = client.get(path)
            assert 400 <= response.status_code < 500, (path, response.status_code)


# Integers that are no ids: counts shown in a notice after a redirect (never sent to the database).
COUNTERS = {"sent", "skipped", "failed", "saved", "done"}


def test_every_integer_parameter_of_every_route_is_a_bounded_id():
    """A new route taking `thing_id: int` fails here: it must be `thing_id: Id`."""
    unbounded = []
    for router in ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            dependant = route.dependant
            for param in [*dependant.path_params, *dependant.query_params, *dependant.body_params]:
                if param.name in COUNTERS or not _mentions_int(param.field_info.annotation):
                    continue
                bounds = [m for m in _metadata(param) if isinstance(m, Interval)]
                if not any(b.le == MAX_ID and b.ge == 1 for b in bounds):
                    unbounded.append(f"{sorted(route.methods)} {route.path} {param.name}")
    assert unbounded == []


def _mentions_int(annotation) -> bool:
    if annotation is int:
        return True
    return any(_mentions_int(arg) for arg in typing.get_args(annotation))


def _metadata(param):
    """The annotated-types metadata on the parameter, its optional and its list items."""
    found = list(param.field_info.metadata)

    def walk(annotation):
        found.extend(getattr(annotation, "__metadata__", ()))
        for arg in typing.get_args(annotation):
            walk(arg)

    walk(param.field_info.annotation)
    return found


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        ("", None),
        (None, None),
        ("0", None),
        ("-3", None),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("1e3", None),
        ("٣", None),  # an Arabic-Indic digit: isdigit() says yes, an id it is not
    ],
)
def test_parse_id(raw, expected):
    assert parse_id(raw) == expected


@pytest.fixture
def probe_app(db):
    """The real app plus a route that forgets to type its id: the safety net must catch it."""
    from consentlens.core.db import get_session

    app = create_app()

    @app.get("/api/v1/probe/{number}")
    def probe(number: int, session: SessionDep) -> dict[str, bool]:
        return {"found": session.get(Child, number) is not None}

    @app.get("/probe/{number}")
    def probe_page(number: int, session: SessionDep) -> dict[str, bool]:
        return {"found": session.get(Child, number) is not None}

    def session_override():
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    app.dependency_overrides[get_session] = session_override
    return app


@pytest.mark.parametrize("huge", HUGE)
def test_an_untyped_huge_id_is_a_404_not_a_500(probe_app, db: Session, huge):
    from fastapi.testclient import TestClient

    if huge < 2**63 and db.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite holds 64-bit integers: this id is merely not found")
    with TestClient(probe_app, raise_server_exceptions=False) as client:
        assert client.get("/api/v1/probe/1").json() == {"found": False}
        response = client.get(f"/api/v1/probe/{huge}")
        assert response.status_code == 404, response.text
        assert response.json() == {"detail": "Not found."}
        page = client.get(f"/probe/{huge}")
        assert page.status_code == 404 and "text/html" in page.headers["content-type"]
        # The request's transaction was rolled back cleanly: the database still answers.
        assert client.get("/api/v1/probe/1").json() == {"found": False}


# str.isdigit() takes these, int() does not: each used to be a 500 where a hand-rolled digit check
# read a form or query value.
NOT_ASCII_DIGITS = ["²", "٣", "1²"]


@pytest.mark.parametrize("digits", NOT_ASCII_DIGITS)
def test_digits_that_are_not_ascii_are_refused_in_queries_and_forms(client, db, club, digits):
    c, ev = club
    admin = factories.user(db, c.org, Role.ADMIN)
    db.commit()
    login(client, admin.email, factories.PASSWORD)
    for query in ("group", "event", "child"):
        response = client.get(f"/staff/gallery?{query}={digits}")
        assert response.status_code == 200, (query, response.status_code)
    token = csrf_from(client.get("/admin/photo-settings").text)
    response = client.post(
        "/admin/photo-settings", data={"csrf_token": token, "retention_months": digits}
    )
    assert response.status_code == 400
    response = client.post(
        f"/staff/events/{ev.id}/review", data={"csrf_token": token, "face_ids": digits}
    )
    assert 300 <= response.status_code < 500
    response = client.post(
        f"/staff/children/{c.obama.id}/paper",
        data={"csrf_token": token, "signer": digits, "signed_on": "2026-11-20"},
    )
    assert response.status_code == 400
    client.cookies.clear()
    login(client, c.guardian.email, factories.PASSWORD)
    token = csrf_from(client.get("/consent").text)
    response = client.post(
        "/consent/review", data={"csrf_token": token, f"c{digits}-website": "no"}
    )
    assert response.status_code == 400
