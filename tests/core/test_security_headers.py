"""Security headers on every response, an unhandled-exception 500 included, and `no-store` on
everything that is not a static file unless the route chose its own cache header."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Response
from fastapi.testclient import TestClient

from consentlens.main import create_app

# Test-only routes, added to an app of this test's own: the real app has no route that raises.
boom = APIRouter()


@boom.get("/test-only/boom")
def raise_on_a_page() -> Response:
    raise RuntimeError("a bug on a page, with a child's name: Rose Peeters")


@boom.get("/api/v1/test-only/boom")
def raise_in_the_api() -> Response:
    raise RuntimeError("a bug in the API")


@boom.get("/test-only/cached")
def cached() -> Response:
    return Response("public", headers={"Cache-Control": "public, max-age=60"})


@pytest.fixture(scope="module")
def booming() -> TestClient:
    app = create_app()
    app.include_router(boom)
    return TestClient(app, raise_server_exceptions=False, follow_redirects=False)


def _hardened(headers) -> None:
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("/test-only/boom", "text/html"), ("/api/v1/test-only/boom", "application/json")],
)
def test_an_unhandled_exception_is_a_plain_500_with_every_header(booming, path, media_type):
    response = booming.get(path)
    assert response.status_code == 500
    _hardened(response.headers)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith(media_type)
    assert "Rose" not in response.text and "Traceback" not in response.text
    assert "RuntimeError" not in response.text


def test_a_route_keeps_its_own_cache_header(booming):
    response = booming.get("/test-only/cached")
    assert response.headers["cache-control"] == "public, max-age=60"
    _hardened(response.headers)


def test_pages_and_api_answers_are_not_stored_but_static_files_may_be(client):
    for path in ("/login", "/healthz", "/api/v1/organisation", "/no-such-page", "/admin"):
        response = client.get(path)
        assert response.headers["cache-control"] == "no-store", path
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("cache-control", "")
    _hardened(static.headers)
