"""The decision log and the audit trail are append-only in the running app, the worker and the CLI
(ORM guards wired by each entry point), and in the database itself (triggers from a migration)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from consentlens import cli
from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentDecision
from consentlens.core.tables import utcnow
from consentlens.db import guards
from consentlens.main import create_app
from consentlens.wiring import photo_worker
from tests import factories


@pytest.fixture
def unguarded() -> Iterator[None]:
    """No guards, as in a process that has not started through an entry point yet."""
    guards.remove_append_only_guards()
    with pytest.raises(RuntimeError, match="not installed"):
        guards.require_append_only_guards()
    try:
        yield
    finally:
        guards.install_append_only_guards()


def _decision(db: Session) -> ConsentDecision:
    org = factories.organisation(db)
    parent = factories.user(db, org, Role.GUARDIAN)
    kid = factories.child(db, org, guardians=(parent,))
    website = next(
        u for u in consent.list_uses(session=db, organisation=org) if u.code == "website"
    )
    return consent.record_decision(
        session=db,
        organisation=org,
        child=kid,
        use=website,
        granted=True,
        method="online",
        now=utcnow(),
        guardian=parent,
    )


def _update_decision(db: Session, decision: ConsentDecision) -> None:
    decision.granted = False
    db.add(decision)
    db.flush()


def _delete_audit_event(db: Session, _decision: ConsentDecision) -> None:
    db.delete(db.exec(select(AuditEvent)).first())
    db.flush()


def _bulk_update(db: Session, _decision: ConsentDecision) -> None:
    db.exec(update(ConsentDecision).values(granted=False))


def _bulk_delete(db: Session, _decision: ConsentDecision) -> None:
    db.exec(delete(AuditEvent))


@pytest.mark.parametrize(
    "change", [_update_decision, _delete_audit_event, _bulk_update, _bulk_delete]
)
def test_the_app_factory_installs_the_guards(unguarded, db, change):
    decision = _decision(db)
    create_app()
    with pytest.raises(guards.AppendOnlyError, match="append-only"):
        change(db, decision)


def test_the_worker_refuses_to_start_unwired(unguarded):
    # Its entry points (`consentlens worker`, the app's lifespan, a bench) call the wiring.
    class Stop(Exception):
        pass

    def no_database() -> Session:
        raise Stop  # reached only if start() went on without the guards

    with pytest.raises(RuntimeError, match="not installed"):
        photo_worker(make_session=no_database, processes=1).start()


def test_every_cli_command_runs_guarded(unguarded):
    @click.command("probe-guards")
    def probe() -> None:
        guards.require_append_only_guards()
        click.echo("guarded")

    cli.main.add_command(probe)
    try:
        result = CliRunner().invoke(cli.main, ["probe-guards"])
    finally:
        cli.main.commands.pop("probe-guards")
    assert result.exit_code == 0, result.output
    assert "guarded" in result.output


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE consent_decisions SET granted = NOT granted",
        "DELETE FROM consent_decisions",
        "UPDATE audit_events SET action = 'nothing happened'",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_raw_changes_to_the_logs(db, statement):
    _decision(db)
    db.flush()
    connection = db.connection()
    with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
        connection.exec_driver_sql(statement)


def test_postgresql_refuses_truncating_the_logs(db):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    connection = db.connection()
    for table in ("consent_decisions", "audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
            connection.exec_driver_sql(f"TRUNCATE {table} CASCADE")
