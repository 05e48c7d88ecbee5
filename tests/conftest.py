"""Test fixtures: real databases (SQLite file and PostgreSQL) migrated with Alembic, each test in a
transaction that is rolled back, and the real application served through a TestClient."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

# Settings are read once per process: point them at a throw-away directory before anything loads.
_VAR = Path(tempfile.mkdtemp(prefix="consentlens-test-"))
os.environ["CONSENTLENS_VAR_DIR"] = str(_VAR)
os.environ["CONSENTLENS_ENV"] = "test"
# Tests drive the photo worker step by step (processing.process_next); the live server runs its own.
os.environ["CONSENTLENS_RUN_WORKER"] = "false"
os.environ.pop("CONSENTLENS_DATABASE_URL", None)

import psycopg  # noqa: E402
import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from consentlens import wiring  # noqa: E402
from consentlens.core.db import get_session, make_engine  # noqa: E402
from consentlens.db import migrate  # noqa: E402
from consentlens.faces import analysis  # noqa: E402
from consentlens.faces.detector import PhotoFaces  # noqa: E402
from consentlens.main import create_app  # noqa: E402
from tests.mail import inbox  # noqa: E402, F401 - the real SMTP server fixture, for every test
from tests.seaweed import s3_bucket, s3_server  # noqa: E402, F401 - a real S3 server, on request

# The tests are an entry point like the app and the worker: services run under the same guards,
# with the same consent listeners.
wiring.install_process()


@pytest.fixture(autouse=True, scope="session")
def _analysis_once_per_photo() -> Iterator[None]:
    """Each photo's real analysis (real models) is computed once per run and reused.

    Half of the run went into analysing the same shared photos again and again. The cache is keyed
    by the file's bytes, so a different file is analysed afresh; a failing analysis is not cached.
    Tests that make the analysis fail patch `analyse_file` themselves, over this wrapper.
    """
    real = analysis.analyse_file
    done: dict[str, PhotoFaces] = {}

    def analyse_once(path: str) -> PhotoFaces:
        try:
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            return real(path)  # the analysis says what is wrong with the file, as in production
        if digest not in done:
            done[digest] = real(path)
        return done[digest]

    analysis.analyse_file = analyse_once
    yield
    analysis.analyse_file = real


POSTGRES_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
ARTIFACTS = Path(__file__).parent / "artifacts"


def _postgres_database() -> Iterator[str]:
    name = f"consentlens_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable on 127.0.0.1:5432 ({error}); "
            "run `bash scripts/test-prerequisites.sh` or `make test`"
        )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.format(name=name)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """An empty database of the requested kind, for the whole session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        yield from _postgres_database()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every test that touches the database runs on SQLite and on PostgreSQL.
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize(
            "database_url", ["sqlite", "postgresql"], indirect=True, scope="session"
        )


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The database, brought to the newest schema by the real migrations."""
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test, whatever the code under test commits."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture(scope="session")
def app():
    return create_app()


@pytest.fixture
def client(app, db: Session) -> Iterator[TestClient]:
    """The real application, its requests running in the test's transaction."""

    def session_override() -> Iterator[Session]:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    app.dependency_overrides[get_session] = session_override
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client
    app.dependency_overrides.clear()


_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: TestClient, email: str, password: str) -> None:
    """Sign in through the real login form."""
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303, response.text


def bearer(client: TestClient, email: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def sign_in(client: TestClient, email: str) -> None:
    """Sign in, reading the pages in English (the organisation's default is Dutch)."""
    from tests.factories.people import PASSWORD

    login(client, email, PASSWORD)
    client.cookies.set("lang", "en")
