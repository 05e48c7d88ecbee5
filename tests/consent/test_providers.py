"""The child page's reference-face count comes through a hook the wiring installs, or fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from consentlens import wiring
from consentlens.auth.models import Role
from consentlens.consent import providers
from consentlens.faces import enrollment
from tests import factories
from tests.conftest import login


@pytest.fixture
def unwired() -> Iterator[None]:
    """No provider, as in a process that has not started through an entry point yet."""
    providers.uninstall_reference_count()
    try:
        yield
    finally:
        wiring.install_providers()


def test_the_wiring_installs_the_photo_pipelines_count():
    assert wiring.REFERENCE_COUNT is enrollment.reference_count
    assert providers.installed_reference_count() is enrollment.reference_count


def test_the_child_page_shows_the_count(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF, locale="en")
    kid = factories.child(db, org)
    login(client, staff.email, factories.PASSWORD)
    assert client.get(f"/staff/children/{kid.id}").status_code == 200
    assert providers.reference_count(session=db, child_id=kid.id) == 0


def test_without_the_wiring_the_count_fails_loudly(unwired, db):
    kid = factories.child(db, factories.organisation(db))
    with pytest.raises(providers.ProviderMissing, match="no reference-count provider"):
        providers.reference_count(session=db, child_id=kid.id)
