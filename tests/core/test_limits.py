"""Request bodies are bounded per route while they stream in, before anything is buffered."""

from __future__ import annotations

import inspect

import anyio
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.params import File
from fastapi.routing import APIRoute

from consentlens import main, wiring
from consentlens.auth.models import Role
from consentlens.core import limits
from consentlens.core.config import get_settings
from consentlens.people import groups as group_service
from tests import factories
from tests.conftest import bearer, csrf_from, login, sign_in
from tests.factories import photos as make_photos

FORM = {"content-type": "application/x-www-form-urlencoded", "accept-language": "en"}


def api_routes() -> list[APIRoute]:
    return [r for router in wiring.ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def takes_files(dependant: Dependant) -> bool:
    fields = [*dependant.body_params, *(p for d in dependant.dependencies for p in d.body_params)]
    return any(isinstance(field.field_info, File) for field in fields)


def chunks(count: int, size: int = 1024):
    for _ in range(count):
        yield b"a" * size


def test_every_declared_limit_names_a_real_route_and_every_upload_route_has_one():
    paths = {route.path for route in api_routes()}
    assert set(main.BODY_LIMITS) <= paths
    uploads = {route.path for route in api_routes() if takes_files(route.dependant)}
    assert uploads and uploads <= set(main.BODY_LIMITS), uploads - set(main.BODY_LIMITS)


def test_upload_routes_are_plain_functions_run_off_the_event_loop():
    # Reading, checking and storing a file blocks: an `async def` route would do it on the loop
    # and hold up every other request (the paper-scan upload used to stall /healthz).
    for route in api_routes():
        if takes_files(route.dependant):
            assert not inspect.iscoroutinefunction(route.endpoint), route.path


def test_an_anonymous_oversized_login_is_refused_on_its_content_length(client):
    response = client.post("/login", content=b"x" * 100_000, headers=FORM)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "at most 8 KB" in response.text and "x-frame-options" in response.headers
    api = client.post("/api/v1/auth/token", content=b"x" * 100_000, headers=FORM)
    assert api.status_code == 413
    assert api.json() == {
        "detail": "The form sent more data than this page accepts (at most 8 KB)."
    }


def test_a_chunked_body_is_refused_once_it_passes_the_limit(client):
    response = client.post("/login", content=chunks(100), headers=FORM)
    assert response.request.headers.get("content-length") is None
    assert response.status_code == 413 and "at most 8 KB" in response.text
    api = client.post("/api/v1/auth/token", content=chunks(100), headers=FORM)
    assert api.status_code == 413 and "at most 8 KB" in api.json()["detail"]


def test_a_body_within_the_limit_reaches_the_route(client):
    # 7 KB of form: through to the CSRF check, which refuses it.
    response = client.post("/login", content=b"email=" + b"a" * 7000, headers=FORM)
    assert response.status_code == 403


class Body:
    """An ASGI receive that would stream forever, counting what the application took."""

    def __init__(self, chunk: int = 1024) -> None:
        self.chunk = chunk
        self.taken = 0
        self.calls = 0

    async def __call__(self) -> dict:
        self.calls += 1
        self.taken += self.chunk
        return {"type": "http.request", "body": b"a" * self.chunk, "more_body": True}


def call(app, path: str, body: Body, headers: list[tuple[bytes, bytes]]) -> list[dict]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, body, send)
    return sent


def test_the_body_is_not_read_beyond_the_limit(app):
    # Straight at the ASGI application, with a body that never ends: the refusal comes after
    # at most the limit and one chunk, not after the whole body.
    body = Body()
    sent = call(app, "/login", body, [(b"content-type", b"application/x-www-form-urlencoded")])
    assert sent[0]["status"] == 413
    assert body.taken <= 8 * 1024 + body.chunk
    # With a Content-Length over the limit, not one byte is read.
    body = Body()
    sent = call(
        app,
        "/login",
        body,
        [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", b"10000")],
    )
    assert sent[0]["status"] == 413 and body.calls == 0


def test_a_photo_upload_is_bounded_by_the_photo_limit(client, db, monkeypatch):
    c = make_photos.club(db)
    ev = make_photos.event(db, c)
    sign_in(client, c.staff.email)
    token = csrf_from(client.get(f"/staff/events/{ev.id}").text)
    monkeypatch.setattr(get_settings(), "photo_max_bytes", 1024 * 1024)
    response = client.post(
        f"/staff/events/{ev.id}/photos",
        data={"csrf_token": token},
        files={"files": ("big.jpg", b"\xff" * (2 * 1024 * 1024), "image/jpeg")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "The upload is too large: at most 1 MB can be sent at once. Send fewer or smaller files."
    )
    # Just under the limit (one file of 1 MB): through to the photo checks.
    response = client.post(
        f"/staff/events/{ev.id}/photos",
        data={"csrf_token": token},
        files={"files": ("big.jpg", b"\xff" * (1024 * 1024), "image/jpeg")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200 and "not a photo" in response.json()[0]["error"]

    def multipart():
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.jpg"\r\n\r\n'
        yield from chunks(2048)
        yield b"\r\n--b--\r\n"

    auth = bearer(client, c.staff.email, factories.PASSWORD)
    response = client.post(
        f"/api/v1/events/{ev.id}/photos",
        content=multipart(),
        headers={**auth, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.request.headers.get("content-length") is None
    assert response.status_code == 413 and "at most 1 MB" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "field", "limit"),
    [
        ("/staff/children/{child}/paper", "scan", 10 * 1024 * 1024),
        ("/staff/settings/forms", "logo", 2 * 1024 * 1024),
        ("/staff/import/preview", "file", 2 * 1024 * 1024),
        ("/staff/children/{child}/reference-photos", "file", 40 * 1024 * 1024),
    ],
)
def test_scans_logos_imports_and_portraits_have_their_own_limits(client, db, path, field, limit):
    c = make_photos.club(db)
    admin = factories.user(db, c.org, Role.ADMIN, locale="en")
    sign_in(client, admin.email)
    url = path.format(child=c.obama.id)
    big = b"\0" * (limit + limits.MULTIPART_OVERHEAD)
    response = client.post(url, data={"csrf_token": "x"}, files={field: ("f", big, "image/png")})
    assert response.status_code == 413
    assert f"at most {limit // (1024 * 1024)} MB" in response.text
    assert client.get("/healthz").status_code == 200


def test_text_with_a_nul_character_is_refused_on_both_databases(client, db):
    # PostgreSQL refuses NUL in text (it used to be a 500 there); SQLite would store it.
    c = make_photos.club(db)
    db.commit()
    auth = bearer(client, c.staff.email, factories.PASSWORD)
    child = {"first_name": "Lo\u0000tte", "last_name": "Peeters", "birth_date": "2016-01-01"}
    response = client.post("/api/v1/children", json=child, headers=auth)
    assert response.status_code == 422
    assert "NUL" in response.json()["detail"][0]["msg"]
    login(client, c.staff.email, factories.PASSWORD)
    token = csrf_from(client.get("/staff/groups").text)
    response = client.post("/staff/groups", data={"csrf_token": token, "name": "U10\x00"})
    assert response.status_code == 400 and "NUL" in response.text
    names = [g.name for g in group_service.list_groups(session=db, organisation=c.org)]
    assert "U10\x00" not in names
