"""Engine, sessions and the per-request transaction."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

from consentlens.core.config import get_settings
from consentlens.core.files import FILE_MODE, sqlite_files


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets real transactions, foreign keys and WAL."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    _create_private(url)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's legacy transaction control skips BEGIN before SELECT and SAVEPOINT, which
        # breaks isolation and savepoints; SQLAlchemy emits BEGIN itself instead (see "begin").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if ":memory:" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A transaction that will write takes the write lock up front (IMMEDIATE): a deferred
        # one that reads first and writes later fails at once ("database is locked") whenever
        # another connection committed in between, and waiting does not help it.
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


def _create_private(url: str) -> None:
    """Create an SQLite file owner-only before SQLite does (its WAL and shm files copy the mode)."""
    for database in sqlite_files(url)[:1]:
        if database.parent.is_dir() and not database.exists():
            # FileExistsError: another process has just created it, with this same mode.
            with contextlib.suppress(FileExistsError):
                os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().resolved_database_url)


SQLITE_BEGIN = "consentlens_sqlite_begin"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def writer_session() -> Session:
    """A session for work that writes (requests that change data, the photo worker)."""
    return Session(get_engine().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}))


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: commit on success, roll back on any error."""
    reading = request.method in _READ_METHODS
    with Session(get_engine()) if reading else writer_session() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# scope="function": the commit happens before the response is sent, so a client that follows a
# redirect always sees what the previous request wrote, and a failed commit is an error response.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
