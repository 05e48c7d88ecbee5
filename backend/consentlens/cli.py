"""The `consentlens` command: serve, migrate, demo, create-admin."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click
from sqlmodel import Session, select

from consentlens.core.config import get_settings


@click.group()
def main() -> None:
    """ConsentLens: photo consent for clubs and schools."""
    from consentlens import wiring
    from consentlens.core.files import secure_storage

    # Every command (demo, create-admin, worker...) writes through the same guarded ORM, with the
    # consent listeners in place, and creates owner-only files (migrate creates the SQLite
    # database, worker the derivatives).
    wiring.install_process()
    secure_storage(get_settings())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web application."""
    import uvicorn

    _log_info()
    _hold_running_lock()
    click.echo(f"ConsentLens on http://{host}:{port} (database: {_database_label()})")
    uvicorn.run(
        "consentlens.main:create_app", factory=True, host=host, port=port, proxy_headers=True
    )


_running_lock: object = None


def _hold_running_lock() -> None:
    """Held while a server or worker runs, so `restore --replace` can tell and refuse."""
    import fcntl

    from consentlens.backup.restoring import RUNNING_LOCK

    global _running_lock
    var = get_settings().var_dir
    var.mkdir(parents=True, exist_ok=True)
    handle = (var / RUNNING_LOCK).open("a")
    fcntl.flock(handle, fcntl.LOCK_SH)
    _running_lock = handle


def _log_info() -> None:
    """What the app and its worker do (re-queued photos, shared photos, backups) gets a line."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")


def _database_label() -> str:
    """The database URL without credentials, for the start-up line."""
    url = get_settings().resolved_database_url
    return url.split("@")[-1] if "@" in url else url


@main.command()
@click.option("--drain", is_flag=True, help="Analyse what is pending in this process, then exit.")
def worker(drain: bool) -> None:
    """Run the photo worker on its own (set CONSENTLENS_RUN_WORKER=false for the web process).

    With CONSENTLENS_JOBS=procrastinate, a worker of the distributed queue: start as many as
    you like, on any machine pointed at the same database and storage.
    """
    import signal
    import threading

    from consentlens import wiring
    from consentlens.core.db import writer_session
    from consentlens.faces import processing

    if drain:
        with writer_session() as session:
            processing.recover(session=session)
            count = 0
            while processing.process_next(session=session) is not None:
                count += 1
        click.echo(f"Analysed {count} photo(s).")
        return
    _log_info()
    _hold_running_lock()
    settings = get_settings()
    if settings.jobs == "procrastinate":
        from consentlens.jobs import distributed
        from consentlens.jobs import worker as pool

        processes = pool.pool_size()
        click.echo(
            f"Worker on procrastinate ({_database_label()}) with {processes} analysis "
            "process(es). Ctrl-C or SIGTERM: running jobs finish, then it stops."
        )
        distributed.run_worker(
            engine=wiring.distributed_engine(), make_session=writer_session, processes=processes
        )
        return
    running = wiring.photo_worker(make_session=writer_session)
    running.start()
    click.echo(f"Photo worker running with {running.processes} process(es).")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    running.stop()


def _passphrase(passphrase_file: str | None) -> str:
    from consentlens.core.config import get_settings

    if passphrase_file:
        passphrase = Path(passphrase_file).read_text().removesuffix("\n")
    else:
        passphrase = get_settings().backup_passphrase
    if not passphrase:
        raise click.ClickException(
            "No backup passphrase: set CONSENTLENS_BACKUP_PASSPHRASE or pass a --passphrase-file "
            "that holds it."
        )
    return passphrase


@main.command()
@click.option("--to", "target", type=click.Path(dir_okay=False), help="The backup file to write.")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False))
def backup(target: str | None, passphrase_file: str | None) -> None:
    """Write an encrypted backup of the database and the stored files (while the app runs)."""
    from consentlens.backup import schedule
    from consentlens.core.config import get_settings

    settings = get_settings().model_copy(update={"backup_passphrase": _passphrase(passphrase_file)})
    try:
        run = schedule.run_backup(
            settings=settings, trigger="command", target=Path(target) if target else None
        )
    except Exception as error:
        raise click.ClickException(f"The backup failed: {error}") from error
    click.echo(f"Backup written to {run.path}: {run.size / 1e6:.1f} MB.")


@main.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--replace",
    is_flag=True,
    help="Once the backup checks out, rename this SQLite installation's database and media "
    "folder aside (nothing is deleted) and restore in their place.",
)
def restore(source: str, passphrase_file: str | None, replace: bool) -> None:
    """Restore a backup onto this installation, which must be empty (or --replace)."""
    from sqlalchemy.exc import SQLAlchemyError

    from consentlens.backup import restoring
    from consentlens.backup.sealing import BackupRefused
    from consentlens.core.config import get_settings
    from consentlens.core.db import get_engine
    from consentlens.core.tables import utcnow

    settings = get_settings()
    if replace and restoring.is_running_elsewhere(settings.var_dir / restoring.RUNNING_LOCK):
        raise click.ClickException(
            "Nothing was restored. ConsentLens is running on this installation (a server or a "
            "worker): stop it first, then restore --replace."
        )
    passphrase = _passphrase(passphrase_file)
    engine = get_engine()
    moved: list[tuple[Path, Path]] = []

    def set_aside() -> None:
        others = [settings.resolved_media_dir]
        if not settings.secret_key:
            others.append(settings.var_dir / "secret_key")
        suffix = f"before-restore-{utcnow():%Y%m%d-%H%M%S}"
        moved.extend(restoring.set_aside(engine=engine, others=others, suffix=suffix))
        for _, aside in moved:
            click.echo(f"Set aside: {aside}")

    try:
        report = restoring.restore(
            source=Path(source),
            passphrase=passphrase,
            engine=engine,
            media_root=settings.resolved_media_dir,
            work_dir=settings.var_dir,
            secret_path=None if settings.secret_key else settings.var_dir / "secret_key",
            before_writing=set_aside if replace else None,
        )
    except (BackupRefused, SQLAlchemyError, KeyboardInterrupt) as refused:
        if moved:
            restoring.put_back(moved=moved, engine=engine)
            click.echo("The installation that was set aside is back in place.")
        if isinstance(refused, KeyboardInterrupt):
            raise click.ClickException("Interrupted: nothing was restored.") from refused
        reason = refused if isinstance(refused, BackupRefused) else refused.args[0]
        raise click.ClickException(f"Nothing was restored. {reason}") from refused
    rows = sum(table["rows"] for table in report.tables.values())
    click.echo(
        f"Restored {rows} rows and {report.files} files in {report.seconds:.1f} s; "
        "every table matches the backup's checksums. Renderings are made again on request."
    )
    if report.secret_restored:
        click.echo("The generated secret key was restored: links and printed codes keep working.")
    elif settings.secret_key:
        click.echo(
            "CONSENTLENS_SECRET_KEY is set: links and printed codes open only if it is the key "
            "of the installation that was backed up."
        )


@main.command()
@click.option("--to", "url", required=True, help="The target database, e.g. postgresql+psycopg://…")
def move(url: str) -> None:
    """Copy this installation's database to another one (stop the app first); resumable."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from consentlens.backup.move import MoveRefused
    from consentlens.backup.move import move as move_database
    from consentlens.core.db import get_engine, make_engine
    from consentlens.db import migrate as migrations

    try:
        migrations.upgrade(url)
        target = make_engine(url)
    except (SQLAlchemyError, ArgumentError, ValueError) as error:
        raise click.ClickException(f"The target database cannot be used: {error}") from error
    try:
        report = move_database(source=get_engine(), target=target, progress=click.echo)
    except MoveRefused as refused:
        raise click.ClickException(str(refused)) from refused
    except SQLAlchemyError as error:
        message = f"The move stopped: {error.args[0]}. Run it again to resume."
        raise click.ClickException(message) from error
    except KeyboardInterrupt as interrupted:
        raise click.ClickException("Interrupted: run the same command again to resume.") from (
            interrupted
        )
    finally:
        target.dispose()
    click.echo(
        f"Moved {report.rows} rows ({len(report.copied)} tables copied, {len(report.skipped)} "
        "already there); every table matches the source. Point CONSENTLENS_DATABASE_URL at the "
        "new database; the stored files stay in the media folder."
    )


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from consentlens.db import migrate as migrations

    migrations.upgrade()
    click.echo("Database schema is up to date.")


@main.command()
@click.option("--if-empty", is_flag=True, help="Only seed when the database has no organisation.")
def demo(if_empty: bool) -> None:
    """Create the demo club (idempotent) and print its logins."""
    from consentlens.core.db import get_engine
    from consentlens.core.tables import utcnow
    from consentlens.demo import DEMO_LOGINS, DEMO_SLUG, seed_demo
    from consentlens.organisations.models import Organisation

    with Session(get_engine()) as session:
        organisations = session.exec(select(Organisation)).all()
        has_demo = any(o.slug == DEMO_SLUG for o in organisations)
        if if_empty and organisations and not has_demo:
            click.echo("The database already holds an organisation; no demo club added.")
            return
        club = seed_demo(session=session, now=utcnow())
        session.commit()
        click.echo(f"Demo club: {club.name}")
    for role, email, password, _, _ in DEMO_LOGINS:
        click.echo(f"  {role:<9} {email}  password: {password}")


@main.command("create-admin")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--organisation", required=True, help="Name or slug; created if it does not exist.")
@click.option("--name", default="", help="The admin's full name.")
def create_admin(email: str, password: str, organisation: str, name: str) -> None:
    """Create an admin (or make an existing user admin) of an organisation."""
    from consentlens.auth import service as accounts
    from consentlens.auth.models import Role
    from consentlens.core.db import get_engine
    from consentlens.core.tables import utcnow
    from consentlens.organisations import service as organisations

    with Session(get_engine()) as session:
        try:
            org = organisations.get_organisation(session=session, name_or_slug=organisation)
            if org is None:
                org = organisations.create_organisation(
                    session=session, name=organisation, today=utcnow().date()
                )
                click.echo(f"Created organisation {org.name} ({org.slug}).")
            user = accounts.get_user_by_email(session=session, email=email)
            if user is None:
                user = accounts.create_user(
                    session=session, email=email, full_name=name or email, password=password
                )
            else:
                accounts.set_password(session=session, user=user, password=password)
            accounts.add_membership(session=session, user=user, organisation=org, role=Role.ADMIN)
            message = f"{user.email} is an admin of {org.name}."
            session.commit()
        except ValueError as error:
            session.rollback()
            click.echo(f"Error: {error}", err=True)
            sys.exit(2)
    click.echo(message)


if __name__ == "__main__":
    main()
