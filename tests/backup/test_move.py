"""Moving an installation from SQLite to PostgreSQL: verified, and resumable after a cut."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from consentlens.backup import move as moving
from consentlens.backup import tables
from consentlens.core.db import make_engine
from consentlens.core.tables import utcnow
from consentlens.db import migrate
from consentlens.organisations import service as organisations
from tests.backup.test_backup import Installation, checksums, club_with_photos
from tests.conftest import _postgres_database


@pytest.fixture
def source(tmp_path, media_at) -> Installation:
    url = f"sqlite:///{tmp_path / 'consentlens.db'}"
    migrate.upgrade(url)
    installation = Installation(make_engine(url), tmp_path / "media", tmp_path)
    media_at(installation)
    club_with_photos(installation)
    yield installation
    installation.engine.dispose()


@pytest.fixture
def postgres(tmp_path) -> Installation:
    urls = _postgres_database()
    url = next(urls)
    migrate.upgrade(url)
    installation = Installation(make_engine(url), tmp_path / "media", tmp_path)
    yield installation
    installation.engine.dispose()
    next(urls, None)


def test_a_club_moves_from_sqlite_to_postgresql_and_goes_on(source, postgres):
    report = moving.move(source=source.engine, target=postgres.engine)
    assert (report.rows > 0 and report.skipped == []) or all(
        checksums(source)[name]["rows"] == 0 for name in report.skipped
    )
    assert checksums(postgres) == checksums(source)
    # The ids continue after the moved ones: new rows can be added on PostgreSQL.
    with Session(postgres.engine) as session:
        org = organisations.create_organisation(
            session=session, name="Another club", today=utcnow().date()
        )
        session.commit()
        assert org.id == checksums(source)["organisations"]["rows"] + 1


def test_an_interrupted_move_resumes_where_it_stopped(source, postgres, monkeypatch):
    real = tables.insert
    calls = {"n": 0}

    def cut_after_five(connection, *, table, lines):
        calls["n"] += 1
        if calls["n"] == 6:
            raise ConnectionError("the network went down")
        return real(connection, table=table, lines=lines)

    monkeypatch.setattr(tables, "insert", cut_after_five)
    with pytest.raises(ConnectionError):
        moving.move(source=source.engine, target=postgres.engine)
    monkeypatch.setattr(tables, "insert", real)
    with tables.snapshot(postgres.engine) as connection:
        half = tables.non_empty(connection)
    assert half and checksums(postgres) != checksums(source)

    report = moving.move(source=source.engine, target=postgres.engine)
    assert set(half) <= set(report.skipped)
    assert checksums(postgres) == checksums(source)


def test_a_move_onto_a_database_in_use_is_refused(source, postgres):
    with Session(postgres.engine) as session:
        organisations.create_organisation(session=session, name="Other", today=utcnow().date())
        session.commit()
    before = checksums(postgres)
    with pytest.raises(moving.MoveRefused, match="organisations"):
        moving.move(source=source.engine, target=postgres.engine)
    assert checksums(postgres) == before  # refused before a single row was written
    with pytest.raises(moving.MoveRefused, match="own database"):
        moving.move(source=source.engine, target=source.engine)
