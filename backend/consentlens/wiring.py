"""The one place that wires ConsentLens together, for every entry point.

Nothing is wired by importing a module. The app (`main.create_app`), the CLI (every command, the
photo worker included), the tests and the benches each call one function here before they touch
the database: `install_app(app)` for the web app, `install_process()` for the rest.
"""

from __future__ import annotations

from fastapi import FastAPI

from consentlens.auth import api as auth_api
from consentlens.auth import errors as auth_errors
from consentlens.auth import front_door
from consentlens.auth import pages as auth_pages
from consentlens.consent import api as consent_api
from consentlens.consent import errors as consent_errors
from consentlens.consent import events, family_pages, paper_pages, providers, season_pages
from consentlens.consent import pages as consent_pages
from consentlens.consent import templating as consent_templating
from consentlens.core import errors, limits, routes, templating
from consentlens.db.guards import install_append_only_guards
from consentlens.forms import pages as form_pages
from consentlens.people import api as people_api
from consentlens.people import confirm_pages, import_pages, members_pages
from consentlens.people import pages as people_pages
from consentlens.photos import api as photos_api
from consentlens.photos import enrollment, gallery_pages, publishing_pages, review_pages
from consentlens.photos import pages as photos_pages

# Who hears of a consent change, inside the transaction that records it: the photo pipeline
# re-judges the photos the change affects (consent itself knows nothing of photos).
CONSENT_LISTENERS: tuple[events.ConsentListener, ...] = (enrollment.on_consent_changed,)

# The staff child page shows how many reference faces a child has; the photo pipeline knows.
REFERENCE_COUNT: providers.ReferenceCount = enrollment.reference_count

ROUTERS = (
    routes.router,
    front_door.router,
    auth_pages.router,
    auth_api.router,
    people_pages.router,
    people_api.router,
    members_pages.router,
    import_pages.router,
    confirm_pages.router,
    consent_pages.router,
    paper_pages.router,
    season_pages.router,
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
    """Subscribe every consent listener (idempotent); fail if one is not in place."""
    for listener in CONSENT_LISTENERS:
        events.subscribe(listener)
    missing = [f.__qualname__ for f in CONSENT_LISTENERS if not events.is_subscribed(f)]
    if missing:
        raise RuntimeError(f"consent listeners are not installed: {', '.join(missing)}")


def install_providers() -> None:
    """Install what consent pages show from other domains; fail if one is not in place."""
    providers.install_reference_count(REFERENCE_COUNT)
    if providers.installed_reference_count() is not REFERENCE_COUNT:
        raise RuntimeError("the reference-count provider is not installed")


def install_process() -> None:
    """What any process needs before it touches the database or renders a template."""
    # The decision log and audit trail refuse changes (checked, or start-up fails).
    install_append_only_guards()
    install_listeners()
    install_providers()
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
