"""The real application over one database connection, with sessions that behave as in production.

The shared `client` fixture hands every request the test's own long-lived session, which is never
closed; that hid the error pages crashing on a closed session (issue 10 §2). Here each request
gets a session of its own that is closed when the request's dependency ends, exactly as
`core.db.get_session` does, on a connection whose outer transaction the harness rolls back.
`cell()` wraps a piece of work in a savepoint, so a request that changes data changes it for
that cell only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from consentlens.core.db import get_session
from consentlens.main import create_app


@dataclass
class ServerError:
    """Stands in for the response when the application raised (the browser would get a 500)."""

    error: BaseException
    status_code: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""

    @property
    def text(self) -> str:
        return f"{type(self.error).__name__}{_while(self.error)}: {self.error}"


def _while(error: BaseException) -> str:
    """The refusal the app was answering when it crashed, if any (the error page's own crash)."""
    context = error.__context__
    while context is not None:
        if isinstance(context, StarletteHTTPException):
            return f" (raised while answering HTTPException {context.status_code})"
        if type(context).__name__ in ("LoginRequired", "LinkNoLongerValid"):
            return f" (raised while answering {type(context).__name__})"
        context = context.__context__
    return ""


class Harness:
    """One connection, one outer transaction, one app whose requests each open their own session."""

    def __init__(self, engine: Engine) -> None:
        self.connection: Connection = engine.connect()
        self._outer = self.connection.begin()
        self.app: FastAPI = create_app()
        self.app.dependency_overrides[get_session] = self._request_session
        self._clients: list[TestClient] = []

    def _request_session(self) -> Iterator[Session]:
        with Session(bind=self.connection, join_transaction_mode="create_savepoint") as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def session(self, **kwargs: Any) -> Session:
        """A session for the test's own reads and writes, on the same connection."""
        return Session(bind=self.connection, join_transaction_mode="create_savepoint", **kwargs)

    def client(self) -> TestClient:
        """A browser of its own (its own cookie jar); redirects are not followed."""
        client = TestClient(self.app, base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        self._clients.append(client)
        return client

    @contextmanager
    def cell(self) -> Iterator[None]:
        """Whatever is written inside is undone afterwards."""
        savepoint = self.connection.begin_nested()
        try:
            yield
        finally:
            if savepoint.is_active:
                savepoint.rollback()

    def close(self) -> None:
        for client in self._clients:
            client.__exit__(None, None, None)
        self.app.dependency_overrides.clear()
        self._outer.rollback()
        self.connection.close()


def send(client: TestClient, method: str, url: str, **kwargs: Any) -> Any:
    """A request whose server-side exception is returned as a 500 instead of raised."""
    try:
        return client.request(method, url, **kwargs)
    except Exception as error:
        return ServerError(error)
