"""Fixtures of the security tests: the production-like harness and the two-club world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from passlib.context import CryptContext
from sqlalchemy import Engine

from consentlens.core import security
from tests.security.harness import Harness
from tests.security.world import World, build


@pytest.fixture(scope="module", autouse=True)
def _quick_password_hashes() -> Iterator[None]:
    """Argon2 at its lightest: these tests sign in dozens of times, and hashing strength is not
    what they test (the stored hashes still carry their own parameters)."""
    quick = CryptContext(
        schemes=["argon2"], argon2__memory_cost=1024, argon2__rounds=1, argon2__parallelism=1
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "pwd_context", quick)
        patch.setattr(security, "_DUMMY_HASH", quick.hash("not a password"))
        yield


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[World]:
    """Both clubs, built once per test module and database; each cell runs in a savepoint."""
    harness = Harness(engine)
    try:
        yield build(harness)
    finally:
        harness.close()


@pytest.fixture
def harness(engine: Engine) -> Iterator[Harness]:
    """The real app with production-like sessions, rolled back after the test."""
    h = Harness(engine)
    try:
        yield h
    finally:
        h.close()
