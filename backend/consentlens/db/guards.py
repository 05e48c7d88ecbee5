"""Append-only guards on the consent decision log and the audit trail.

Installed explicitly by every entry point (`create_app`, the CLI and its photo worker, the tests)
through `consentlens.wiring`, rather than as a side effect of importing `db.models`, which the
running app never imported: in production nothing refused an update of a decision.
`install_append_only_guards()` also checks that the guards are in place and refuses to start
otherwise; the worker (`jobs.worker.Worker.start`, through `wiring.check_process`) refuses to run
without them.

These guards stop the application's own ORM from changing the logs. The database refuses raw SQL
as well: the migration `2026-12-01_append_only_logs` adds triggers (PostgreSQL and SQLite) that
raise on UPDATE and DELETE (and TRUNCATE on PostgreSQL) of both tables. Nothing in ConsentLens
changes or deletes these rows today (withdrawal is a new decision, children are archived, not
deleted); a future erasure feature has to lift the triggers deliberately, in its own migration.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from consentlens.audit.models import AuditEvent
from consentlens.consent.models import ConsentDecision

APPEND_ONLY_MODELS: tuple[type, ...] = (ConsentDecision, AuditEvent)
_MAPPER_EVENTS = ("before_update", "before_delete")


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a row of an append-only log."""


def _refuse_change(_mapper: Mapper[Any], _connection: object, target: object) -> None:
    raise AppendOnlyError(f"{type(target).__name__} rows are append-only")


def _refuse_bulk_change(state: ORMExecuteState) -> None:
    # `session.execute(update(ConsentDecision)...)` skips the mapper events above.
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ in APPEND_ONLY_MODELS:
        raise AppendOnlyError(f"{mapper.class_.__name__} rows are append-only")


def _installed() -> list[str]:
    """What is missing, as readable names; empty when every guard is in place."""
    missing = [
        f"{model.__name__}.{name}"
        for model in APPEND_ONLY_MODELS
        for name in _MAPPER_EVENTS
        if not event.contains(model, name, _refuse_change)
    ]
    if not event.contains(Session, "do_orm_execute", _refuse_bulk_change):
        missing.append("Session.do_orm_execute")
    return missing


def install_append_only_guards() -> None:
    """Refuse ORM updates and deletes of the append-only logs (idempotent); fail if not in place."""
    for model in APPEND_ONLY_MODELS:
        for name in _MAPPER_EVENTS:
            if not event.contains(model, name, _refuse_change):
                event.listen(model, name, _refuse_change)
    if not event.contains(Session, "do_orm_execute", _refuse_bulk_change):
        event.listen(Session, "do_orm_execute", _refuse_bulk_change)
    require_append_only_guards()


def require_append_only_guards() -> None:
    """Raise at start-up when any append-only guard is missing."""
    missing = _installed()
    if missing:
        raise RuntimeError(f"append-only guards are not installed: {', '.join(missing)}")


def remove_append_only_guards() -> None:
    """Take the guards off again: for the tests that prove each entry point installs them."""
    for model in APPEND_ONLY_MODELS:
        for name in _MAPPER_EVENTS:
            if event.contains(model, name, _refuse_change):
                event.remove(model, name, _refuse_change)
    if event.contains(Session, "do_orm_execute", _refuse_bulk_change):
        event.remove(Session, "do_orm_execute", _refuse_bulk_change)
