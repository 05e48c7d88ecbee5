"""The one place that wires ConsentLens together, for every entry point.

Nothing is wired by importing a module. The app (`main.create_app`), the CLI (every command, the
photo worker included), the tests and the benches each call one function here before they touch
the database: `install_app(app)` for the web app, `install_process()` for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from sqlmodel import Session

from consentlens.auth import api as auth_api
from consentlens.auth import errors as auth_errors
from consentlens.auth import front_door
from consentlens.auth import pages as auth_pages
from consentlens.consent import api as consent_api
from consentlens.consent import errors as consent_errors
from consentlens.consent import events, family_pages, home_pages, organisation_api
from consentlens.consent import pages as consent_pages
from consentlens.consent import templating as consent_templating
from consentlens.consent.service import ensure_default_uses
from consentlens.core import errors, limits, routes, templating
from consentlens.core.hooks import Hook
from consentlens.db.guards import install_append_only_guards
from consentlens.forms import pages as form_pages
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.people import api as people_api
from consentlens.people import (
    child_pages,
    confirm_pages,
    group_pages,
    guardian_pages,
    import_pages,
)
from consentlens.people import events as people_events
from consentlens.photos import api as photos_api
from consentlens.photos import (
    enrollment,
    gallery_pages,
    publishing,
    publishing_pages,
    review_pages,
)
from consentlens.photos import pages as photos_pages

# Who hears of a consent change, inside the transaction that records it: the photo pipeline
# re-judges the photos the change affects (consent itself knows nothing of photos).
CONSENT_LISTENERS: tuple[events.ConsentListener, ...] = (enrollment.on_consent_changed,)


def give_default_uses(session: Session, organisation: Organisation) -> None:
    """A new organisation gets the standard consent uses, in the transaction that creates it."""
    ensure_default_uses(session=session, organisation=organisation)


def forget_archived_child(session: Session, event: people_events.ChildArchived) -> None:
    """An archived child is recognised nowhere: references and identifications go, faces are
    covered again, and publications showing them are flagged for takedown."""
    enrollment.forget_child(
        session=session,
        organisation=event.organisation,
        child_id=event.child_id,
        now=event.now,
        reason=event.reason,
        actor_id=event.actor_id,
    )
    publishing.flag_lapsed(
        session=session, organisation=event.organisation, now=event.now, child_ids=[event.child_id]
    )


# News from the lower rooms, and who above hears it (each hook refuses news nobody hears).
HOOK_LISTENERS: tuple[tuple[Hook[Any], Callable[[Session, Any], None]], ...] = (
    (organisations.organisation_created, give_default_uses),
    (people_events.child_archived, forget_archived_child),
)

ROUTERS = (
    routes.router,
    front_door.router,
    auth_pages.router,
    auth_api.router,
    home_pages.router,
    organisation_api.router,
    people_api.router,
    group_pages.router,
    child_pages.router,
    guardian_pages.router,
    import_pages.router,
    confirm_pages.router,
    consent_pages.router,
    family_pages.router,
    consent_api.router,
    form_pages.router,
    photos_pages.router,
    review_pages.router,
    gallery_pages.router,
    publishing_pages.router,
    photos_api.router,
)


def install_listeners() -> None:
    """Subscribe every consent and hook listener (idempotent); fail if one is not in place."""
    for listener in CONSENT_LISTENERS:
        events.subscribe(listener)
    for hook, hook_listener in HOOK_LISTENERS:
        hook.subscribe(hook_listener)
    missing = [f.__qualname__ for f in CONSENT_LISTENERS if not events.is_subscribed(f)] + [
        f"{hook.name}: {f.__qualname__}" for hook, f in HOOK_LISTENERS if not hook.is_subscribed(f)
    ]
    if missing:
        raise RuntimeError(f"listeners are not installed: {', '.join(missing)}")


def install_process() -> None:
    """What any process needs before it touches the database or renders a template."""
    # The decision log and audit trail refuse changes (checked, or start-up fails).
    install_append_only_guards()
    install_listeners()
    consent_templating.install(templating.environment)


def install_app(app: FastAPI) -> None:
    """Wire the process, then the app's error handlers and routers."""
    install_process()
    errors.install(app)
    auth_errors.install(app)
    consent_errors.install(app)
    app.add_exception_handler(limits.BodyTooLarge, limits.body_too_large)
    for router in ROUTERS:
        app.include_router(router)
