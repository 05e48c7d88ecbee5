"""Refusals as the OpenAPI schema documents them, whoever raised them."""

from __future__ import annotations

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from consentlens.main import create_app


@pytest.fixture(scope="module")
def probe_client():
    app = create_app()

    @app.get("/api/v1/probe/sentence")
    def sentence() -> None:
        raise HTTPException(422, "Unknown colour.")

    @app.get("/api/v1/probe/problems")
    def problems() -> None:
        raise HTTPException(422, [{"loc": ["query", "q"], "msg": "No.", "type": "value_error"}])

    with TestClient(app) as client:
        yield client


def test_an_api_422_raised_with_a_sentence_is_sent_as_the_documented_list(probe_client):
    response = probe_client.get("/api/v1/probe/sentence")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": ["body"], "msg": "Unknown colour.", "type": "value_error"}]
    }


def test_an_api_422_with_problems_is_left_as_it_is(probe_client):
    response = probe_client.get("/api/v1/probe/problems")
    assert response.json()["detail"][0]["loc"] == ["query", "q"]


def test_a_405_names_every_method_of_the_path(probe_client):
    response = probe_client.delete("/api/v1/children")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json() == {"detail": "Method Not Allowed"}
    assert probe_client.put("/api/v1/children/1/consents").headers["allow"] == "GET, POST"


def test_the_422_schema_is_the_one_fastapi_documents(probe_client):
    schema = probe_client.get("/api/v1/openapi.json").json()
    detail = schema["components"]["schemas"]["HTTPValidationError"]["properties"]["detail"]
    assert detail["type"] == "array"
    error = schema["components"]["schemas"]["ErrorMessage"]
    assert error["properties"]["detail"]["type"] == "string"
