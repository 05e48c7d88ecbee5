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

from consentlens import health, maintenance
from consentlens.auth import api as auth_api
from consentlens.auth import deps as auth_deps
from consentlens.auth import errors as auth_errors
from consentlens.auth import front_door
from consentlens.auth import pages as auth_pages
from consentlens.auth import staff_pages as auth_staff_pages
from consentlens.backup import pages as backup_pages
from consentlens.backup import schedule as backup_schedule
from consentlens.consent import api as consent_api
from consentlens.consent import (
    club_pages,
    events,
    family_pages,
    home_pages,
    organisation_api,
    paper_pages,
    providers,
    season_pages,
)
from consentlens.consent import errors as consent_errors
from consentlens.consent import pages as consent_pages
from consentlens.consent import templating as consent_templating
from consentlens.consent.service import ensure_default_uses
from consentlens.core import errors, limits, templating, text
from consentlens.core.config import get_settings
from consentlens.core.hooks import Hook
from consentlens.db.guards import install_append_only_guards, require_append_only_guards
from consentlens.faces import analysis, enrollment, processing, review_pages, verdicts
from consentlens.faces import api as faces_api
from consentlens.faces import pages as faces_pages
from consentlens.faces import protection as faces_protection
from consentlens.forms import pages as form_pages
from consentlens.gallery import pages as gallery_pages
from consentlens.gallery import staff_pages as gallery_staff_pages
from consentlens.gallery import visibility
from consentlens.jobs import distributed, queue, worker
from consentlens.jobs.worker import Queue, SessionFactory, Spread, Worker
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.outbox import service as outbox
from consentlens.people import api as people_api
from consentlens.people import (
    child_pages,
    confirm_pages,
    group_pages,
    guardian_pages,
    import_pages,
    protection_pages,
)
from consentlens.people import events as people_events
from consentlens.photos import api as photos_api
from consentlens.photos import pages as photos_pages
from consentlens.photos.service import ANALYSIS_TASK
from consentlens.publishing import deletion_pages, menu_counts, rules_pages, takedowns, withdrawn
from consentlens.publishing import pages as publishing_pages
from consentlens.publishing import settings_pages as publishing_settings_pages

# Who hears of a consent change, inside the transaction that records it, in this order: the
# faces room re-judges the photos the change affects (or forgets the child's reference faces),
# then publishing flags what must come down. Consent itself knows nothing of photos.
CONSENT_LISTENERS: tuple[events.ConsentListener, ...] = (
    enrollment.on_consent_changed,
    takedowns.on_consent_changed,
)


def give_default_uses(session: Session, organisation: Organisation) -> None:
    """A new organisation gets the standard consent uses, in the transaction that creates it."""
    ensure_default_uses(session=session, organisation=organisation)


# News from the lower rooms, and who above hears it (each hook refuses news nobody hears).
HOOK_LISTENERS: tuple[tuple[Hook[Any], Callable[[Session, Any], None]], ...] = (
    (organisations.organisation_created, give_default_uses),
    # In this order: the faces room forgets the child, then publishing flags what must come down.
    (people_events.child_archived, enrollment.on_child_archived),
    (people_events.child_archived, takedowns.on_child_archived),
    # In this order: the photos are judged again, then what they now hide is flagged.
    (people_events.child_protection_changed, faces_protection.on_child_protection_changed),
    (people_events.child_protection_changed, takedowns.on_child_protection_changed),
    # A photo staff hid or deleted: its published copies are flagged (and unlinked if deleted).
    (visibility.photo_withdrawn, withdrawn.on_photo_withdrawn),
)

# The staff child page shows how many reference faces a child has; the photo pipeline knows.
REFERENCE_COUNT: providers.ReferenceCount = enrollment.reference_count

ROUTERS = (
    health.router,
    front_door.router,
    auth_pages.router,
    auth_api.router,
    auth_staff_pages.router,
    home_pages.router,
    organisation_api.router,
    people_api.router,
    group_pages.router,
    child_pages.router,
    protection_pages.router,
    guardian_pages.router,
    import_pages.router,
    confirm_pages.router,
    consent_pages.router,
    club_pages.router,
    paper_pages.router,
    season_pages.router,
    family_pages.router,
    consent_api.router,
    form_pages.router,
    photos_pages.router,
    faces_pages.router,
    review_pages.router,
    gallery_pages.router,
    gallery_staff_pages.router,
    publishing_pages.router,
    publishing_settings_pages.router,
    deletion_pages.router,
    rules_pages.router,
    backup_pages.router,
    photos_api.router,
    faces_api.router,
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


def install_providers() -> None:
    """Install what consent pages show from other domains; fail if one is not in place."""
    providers.install_reference_count(REFERENCE_COUNT)
    if providers.installed_reference_count() is not REFERENCE_COUNT:
        raise RuntimeError("the reference-count provider is not installed")
    # The staff menu's badges: what waits in the gallery and publishing rooms.
    auth_deps.install_menu_counts(menu_counts.menu_counts)
    if auth_deps.installed_menu_counts() is not menu_counts.menu_counts:
        raise RuntimeError("the menu-count provider is not installed")


def install_process() -> None:
    """What any process needs before it touches the database or renders a template."""
    # No NUL character reaches either database: refused as a client error, the same on both.
    text.install_text_guard()
    # The decision log and audit trail refuse changes (checked, or start-up fails).
    install_append_only_guards()
    install_listeners()
    install_providers()
    consent_templating.install(templating.environment)
    # The admin home warns when no backup succeeded lately; the backup room knows.
    templating.environment.globals["backup_status"] = backup_schedule.status_for_page
    templating.environment.globals["backup_moment"] = backup_pages.moment
    templating.environment.globals["mail_purposes"] = outbox.PURPOSE_LABELS
    # Jobs leave after commit, to the engine the deployment chose.
    queue.install_sender(send_job, distributed=jobs_are_distributed)
    distributed.PRIORITIES[outbox.MAIL_TASK] = MAIL_PRIORITY


# Below the periodic duties (distributed.DUTY_PRIORITY), above photo work (0).
MAIL_PRIORITY = 5


def jobs_are_distributed() -> bool:
    return get_settings().jobs == "procrastinate"


def send_job(task: str, argument: str) -> None:
    """To procrastinate, or a wake-up for the embedded worker (its queue is the rows)."""
    if jobs_are_distributed():
        distributed.send(task, argument)
    else:
        worker.wake()


def check_process() -> None:
    """Raise unless this process is wired: the worker refuses to start otherwise."""
    if not text.text_guard_installed():
        raise RuntimeError("the NUL-text guard is not installed: call consentlens.wiring first")
    require_append_only_guards()
    events.require_listeners()


def photo_queue() -> Queue:
    """The photo-analysis queue the worker runs, with the time-driven duties beside it."""
    return Queue(
        name="photo-worker",
        preflight=check_process,
        start_up=processing.start_up,
        claim=processing.claim,
        run=processing.run_job,
        finish=processing.store_outcome,
        warm_up=prepare_pool_process,
        maintenance=maintenance.run,
        spread=Spread(part=processing.run_share, combine=processing.combine, join=processing.join),
    )


def prepare_pool_process() -> None:
    """A pool process stores what it analyses: it is wired like any other, then loads the models."""
    install_process()
    analysis.warm_up()


def photo_worker(*, make_session: SessionFactory, processes: int | None = None) -> Worker:
    """A worker on the photo queue (`consentlens worker`, the benches)."""
    return Worker(make_session, photo_queue(), processes)


def photo_kind() -> distributed.Kind:
    """The photo-analysis queue as the distributed engine runs it: the same `run_job`."""
    return distributed.Kind(
        task=ANALYSIS_TASK,
        claim=processing.claim_photo,
        run=processing.run_job,
        finish=processing.finish_photo,
        release=processing.release_photo,
        waiting=processing.waiting_photos,
    )


def mail_kind() -> distributed.Kind:
    """E-mail delivery: the outbox rows are the queue, their retries the outbox's own."""
    return distributed.Kind(
        task=outbox.MAIL_TASK,
        claim=outbox.claim,
        run=outbox.deliver_job,
        finish=outbox.finish,
        release=outbox.release,
        waiting=outbox.waiting,
    )


def distributed_engine() -> distributed.Engine:
    """What `consentlens worker` runs on a procrastinate deployment."""
    return distributed.Engine(
        kinds=(
            photo_kind(),
            # Retried for an hour: a store outage must not leave stale renderings for good.
            distributed.Kind.stateless(
                task=verdicts.RENDER_TASK, run=processing.render_photo, retries=60
            ),
            mail_kind(),
        ),
        preflight=check_process,
        warm_up=prepare_pool_process,
        maintenance=maintenance.run,
        hourly=processing.sweep_files,
    )


def install_app(app: FastAPI) -> None:
    """Wire the process, then the app's error handlers and routers."""
    install_process()
    errors.install(app)
    auth_errors.install(app)
    consent_errors.install(app)
    app.add_exception_handler(limits.BodyTooLarge, limits.body_too_large)
    for router in ROUTERS:
        app.include_router(router)
