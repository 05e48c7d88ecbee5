"""No free database connection (every one held, e.g. by requests waiting on a hanging store) is
a 503 to retry, not a 500: the real app on a real database whose one connection is taken."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from consentlens.core.db import get_session, make_engine
from consentlens.db import migrate
from consentlens.main import create_app
from tests.conftest import csrf_from


@pytest.fixture
def starved_client(tmp_path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.5)
    held = engine.connect()  # the one connection, taken for the whole test
    app = create_app()

    def session_on_the_starved_pool() -> Iterator[Session]:
        with Session(engine) as session:
            yield session

    app.dependency_overrides[get_session] = session_on_the_starved_pool
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        held.close()
        engine.dispose()


def test_a_page_and_the_api_answer_503_with_a_retry_when_no_connection_is_free(starved_client):
    api = starved_client.post(
        "/api/v1/auth/token", data={"username": "a@example.test", "password": "whatever-long"}
    )
    assert api.status_code == 503, api.text
    assert api.headers["retry-after"] == "30" and "te druk" in api.json()["detail"]
    # A page form: looking up a printed code needs the database.
    form = starved_client.get("/code")
    page = starved_client.post(
        "/code",
        data={"csrf_token": csrf_from(form.text), "code": "ABCD-EFGH"},
        headers={"accept": "text/html"},
    )
    assert page.status_code == 503, page.text
    assert "text/html" in page.headers["content-type"]
