"""Every entry point wires the consent listeners explicitly; a process that did not is refused."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from consentlens import cli, wiring
from consentlens.auth.models import Role
from consentlens.consent import events
from consentlens.consent import service as consent
from consentlens.core.db import get_session
from consentlens.core.tables import utcnow
from consentlens.faces import enrollment, processing
from consentlens.faces.models import StoredVerdict
from consentlens.main import create_app
from tests import factories
from tests.conftest import bearer
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos


@pytest.fixture
def unwired() -> Iterator[None]:
    """No consent listener, as in a process that has not started through an entry point yet."""
    for listener in wiring.CONSENT_LISTENERS:
        events.unsubscribe(listener)
    try:
        yield
    finally:
        wiring.install_listeners()


def test_the_photo_pipeline_is_a_declared_listener():
    assert enrollment.on_consent_changed in wiring.CONSENT_LISTENERS
    assert events.is_subscribed(enrollment.on_consent_changed)


def test_a_decision_without_wiring_fails_loudly(unwired, db):
    org = factories.organisation(db)
    parent = factories.user(db, org, Role.GUARDIAN)
    kid = factories.child(db, org, guardians=(parent,))
    website = next(
        u for u in consent.list_uses(session=db, organisation=org) if u.code == "website"
    )
    with pytest.raises(events.ListenersMissing, match="no consent listener"):
        consent.record_decision(
            session=db,
            organisation=org,
            child=kid,
            use=website,
            granted=True,
            method="online",
            now=utcnow(),
            guardian=parent,
        )


def test_the_app_factory_installs_the_listeners(unwired):
    create_app()
    assert all(events.is_subscribed(listener) for listener in wiring.CONSENT_LISTENERS)


def test_every_cli_command_has_the_listeners(unwired):
    @click.command("probe-listeners")
    def probe() -> None:
        events.require_listeners()
        click.echo("wired")

    cli.main.add_command(probe)
    try:
        result = CliRunner().invoke(cli.main, ["probe-listeners"])
    finally:
        cli.main.commands.pop("probe-listeners")
    assert result.exit_code == 0, result.output
    assert "wired" in result.output


def _website_action(db: Session, photo_id: int) -> str:
    verdict = db.exec(
        select(StoredVerdict).where(
            StoredVerdict.photo_id == photo_id, StoredVerdict.use_code == "website"
        )
    ).one()
    return verdict.action


def test_a_decision_through_an_app_from_create_app_rejudges_photos(db):
    c = make_photos.club(db)
    make_consent.grant_all(db, c.org, c.obama, c.guardian)
    make_photos.enroll(db, c.org, c.obama, "portraits/obama_1.jpg")
    (photo,) = make_photos.upload(db, c, make_photos.event(db, c), ["portraits/obama_2.jpg"])
    processing.process_next(session=db)
    assert _website_action(db, photo.id) == "show"
    # From here on the process has no listener, until the app factory wires one.
    for listener in wiring.CONSENT_LISTENERS:
        events.unsubscribe(listener)
    try:
        app = create_app()

        def session_override() -> Iterator[Session]:
            yield db
            db.commit()

        app.dependency_overrides[get_session] = session_override
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
            auth = bearer(client, c.staff.email, factories.PASSWORD)
            response = client.post(
                f"/api/v1/children/{c.obama.id}/consents",
                json={"use": "website", "decision": "refused", "guardian_id": c.guardian.id},
                headers=auth,
            )
        assert response.status_code == 201, response.text
    finally:
        wiring.install_listeners()
    assert _website_action(db, photo.id) == "blur"
