"""Fixtures of the people tests: a club, its staff member, and that member signed in."""

from __future__ import annotations

import pytest

from consentlens.auth.models import Role
from tests import factories
from tests.conftest import csrf_from, login


@pytest.fixture
def org(db):
    return factories.organisation(db, name="KSV Voorbeeld")


@pytest.fixture
def staff(db, org):
    return factories.user(db, org, Role.STAFF, name="Coach Carla", locale="en")


@pytest.fixture
def signed_in(client, staff):
    """The staff member signed in; returns a function that posts a form with the CSRF token."""
    login(client, staff.email, factories.PASSWORD)
    token = csrf_from(client.get("/staff/groups").text)

    def post(url: str, **data):
        return client.post(url, data={"csrf_token": token, **data})

    return post
