"""People's hooks: an archived child and a new organisation reach the rooms above through the
listeners `consentlens.wiring` installs, and nowhere without them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlmodel import select

from consentlens import wiring
from consentlens.core.hooks import ListenersMissing
from consentlens.faces import enrollment
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.people import children, events
from consentlens.publishing import takedowns
from tests import factories


@pytest.fixture
def unhooked() -> Iterator[None]:
    """No hook listener, as in a process that has not started through an entry point yet."""
    for hook, listener in wiring.HOOK_LISTENERS:
        hook.unsubscribe(listener)
    try:
        yield
    finally:
        wiring.install_listeners()


def test_the_wiring_installs_the_people_hooks():
    assert events.child_archived.is_subscribed(enrollment.on_child_archived)
    assert events.child_archived.is_subscribed(takedowns.on_child_archived)
    assert organisations.organisation_created.is_subscribed(wiring.give_default_uses)


def test_a_new_organisation_gets_the_default_uses_through_the_hook(db):
    from consentlens.consent import service as consent

    org = factories.organisation(db)
    assert len(consent.list_uses(session=db, organisation=org)) == 6


def test_an_organisation_without_the_wiring_is_refused_before_anything_is_written(unhooked, db):
    with pytest.raises(ListenersMissing, match="no organisation-created listener"):
        organisations.create_organisation(session=db, name="Unwired club", today=date(2026, 11, 24))
    assert db.exec(select(Organisation).where(Organisation.name == "Unwired club")).first() is None


def test_archiving_a_child_without_the_wiring_fails_loudly(db):
    org = factories.organisation(db)
    kid = factories.child(db, org)
    for hook, listener in wiring.HOOK_LISTENERS:
        hook.unsubscribe(listener)
    try:
        with pytest.raises(ListenersMissing, match="no child-archived listener"):
            children.set_child_archived(session=db, organisation=org, child=kid, archived=True)
    finally:
        wiring.install_listeners()


def test_the_archive_news_names_the_child_and_who_archived_it(db):
    org = factories.organisation(db)
    kid = factories.child(db, org)
    heard: list[events.ChildArchived] = []

    def listen(session: object, event: events.ChildArchived) -> None:
        heard.append(event)

    events.child_archived.subscribe(listen)
    try:
        children.set_child_archived(session=db, organisation=org, child=kid, archived=True)
        # Archiving again, or restoring, is no news for the photo pipeline.
        children.set_child_archived(session=db, organisation=org, child=kid, archived=True)
        children.set_child_archived(session=db, organisation=org, child=kid, archived=False)
    finally:
        events.child_archived.unsubscribe(listen)
    assert [(e.child_id, e.organisation.id, e.actor_id) for e in heard] == [(kid.id, org.id, None)]
