"""The distributed engine: procrastinate on the deployment's PostgreSQL, no extra service.

Any number of `consentlens worker` processes, on any machine pointed at the same database and
storage, share the jobs: each is taken by one worker, workers send heartbeats, periodic tasks run
once per tick across all workers. The CPU work runs in a pool of spawned processes per worker
(the embedded worker's `run` functions); the asyncio side only claims, waits and stores.

The work's own rows stay the truth (a photo is `pending`, `processing`...): a job only says
"do this one". So the upkeep, every few seconds on one worker, makes the two agree: jobs of a dead
worker run again after their item is put back, items with no job get one (a crash between
commit and send loses nothing). Its tables are in the PostgreSQL schema `procrastinate`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from procrastinate.jobs import Status
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url
from sqlmodel import Session

from consentlens.core.config import get_settings
from consentlens.core.tables import utcnow
from consentlens.jobs import queue
from consentlens.jobs.worker import SessionFactory, end_pool, prepare_process

log = logging.getLogger(__name__)

SCHEMA = "procrastinate"
QUEUE = "consentlens"
UPKEEP_TASK = "consentlens-upkeep"
MAINTENANCE_TASK = "consentlens-maintenance"
HOURLY_TASK = "consentlens-hourly"
# Periodic duties before the work they keep in order.
DUTY_PRIORITY = 10
SWEEP_BATCH = 1000
KEEP_JOBS_HOURS = 24
RETRY_WAIT = 60


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of work, as the distributed engine sees it (`worker.Queue` for the embedded one)."""

    task: str
    # Take this item for this job (True), or find it done, gone or taken (False); commits.
    claim: Callable[[Session, str, datetime], bool]
    # Runs in a pool process: a module-level function, so that it can be pickled.
    run: Callable[[str], Any]
    # Stores a failure (a success was stored by `run`); commits, sends a retry if one is due.
    finish: Callable[[Session, str, Any, BaseException | None], None]
    # A claimed item whose job will not finish (dead worker, stopped job) back to waiting.
    release: Callable[[Session, str], None]
    # Up to `limit` items waiting for a job, oldest first: what the sweep checks.
    waiting: Callable[[Session, int], list[str]]
    # A failed job runs again this many times, RETRY_WAIT seconds apart (procrastinate's retry);
    # 0: failures are the kind's own business (`finish`).
    retries: int = 0

    @classmethod
    def stateless(cls, *, task: str, run: Callable[[str], Any], retries: int = 0) -> Kind:
        """Work with no row of its own to claim (a job that tidies and renders): each job just
        runs; a lost one is not sent again, so it must be work whose absence is harmless."""
        return cls(
            task=task,
            claim=_always,
            run=run,
            finish=_log_failure,
            release=_nothing_to_release,
            waiting=_nothing_waiting,
            retries=retries,
        )


def _always(session: Session, argument: str, now: datetime) -> bool:
    return True


def _log_failure(session: Session, argument: str, result: Any, error: BaseException | None) -> None:
    if error is not None:
        log.warning("job for %s failed: %s", argument, error)


def _nothing_to_release(session: Session, argument: str) -> None: ...


def _nothing_waiting(session: Session, limit: int) -> list[str]:
    return []


@dataclass(frozen=True, slots=True)
class Engine:
    """Everything a distributed worker runs."""

    kinds: tuple[Kind, ...]
    # Raise unless the process is wired (guards, listeners).
    preflight: Callable[[], None]
    # Loads what `run` needs once per pool process (the face models).
    warm_up: Callable[[], None]
    # Time-driven duties, once a minute across all workers; commits.
    maintenance: Callable[[Session, datetime], None]
    # What a crash can leave behind (files of interrupted uploads), once an hour: the embedded
    # worker does it when it starts, but distributed workers start and stop at any time.
    hourly: Callable[[Session, datetime], None]


def conninfo(database_url: str) -> str:
    """The libpq connection string of the SQLAlchemy URL, inside procrastinate's schema."""
    url = make_url(database_url).set(drivername="postgresql")
    return make_conninfo(
        url.render_as_string(hide_password=False), options=f"-c search_path={SCHEMA}"
    )


def lock_of(task: str, argument: str) -> str:
    # At most one job per item waits in the queue: a second send of it is a no-op.
    return f"{task}:{argument}"


_senders: dict[str, procrastinate.App] = {}
_senders_lock = threading.Lock()


def _sender_app(database_url: str) -> procrastinate.App:
    with _senders_lock:
        app = _senders.get(database_url)
        if app is None:
            app = procrastinate.App(
                connector=procrastinate.SyncPsycopgConnector(
                    conninfo=conninfo(database_url), min_size=1, max_size=4
                )
            )
            app.open()
            _senders[database_url] = app
        return app


PRIORITIES: dict[str, int] = {}  # tasks taken before photo work (e-mail), set by wiring


def send(task: str, argument: str) -> None:
    """The `jobs.queue` sender of a procrastinate deployment (positional: the Sender contract)."""
    app = _sender_app(get_settings().resolved_database_url)
    lock, priority = lock_of(task, argument), PRIORITIES.get(task, 0)
    deferrer = app.configure_task(task, queue=QUEUE, queueing_lock=lock, priority=priority)
    # A job for this item already waiting is as good as the one sent now.
    with contextlib.suppress(procrastinate_errors.AlreadyEnqueued):
        deferrer.defer(argument=argument)


def close_sender() -> None:
    """Close this process's sending connections (a worker that ends, the tests)."""
    with _senders_lock:
        for app in _senders.values():
            app.close()
        _senders.clear()


class _Pool:
    """The worker's analysis processes; a crashed process breaks the pool, which is replaced."""

    def __init__(self, processes: int, warm_up: Callable[[], None]) -> None:
        self.processes = processes
        self.warm_up = warm_up
        self.executor = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=prepare_process,
            initargs=(self.warm_up, os.getpid()),
        )

    async def run(self, function: Callable[[str], Any], argument: str) -> Any:
        executor = self.executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, function, argument)
        except BrokenProcessPool:
            if self.executor is executor:  # the first job to notice replaces the pool
                end_pool(executor)
                self.executor = self._new()
            raise

    def close(self) -> None:
        end_pool(self.executor)


def _job_function(kind: Kind, pool: _Pool, make_session: SessionFactory) -> Callable[..., Any]:
    async def job(argument: str) -> None:
        claimed = await asyncio.to_thread(_claim, kind, make_session, argument)
        if not claimed:
            return
        try:
            result: Any = await pool.run(kind.run, argument)
            error: BaseException | None = None
        except asyncio.CancelledError:
            # Stopped before the analysis ended (the worker shuts down): the item waits again.
            await asyncio.shield(asyncio.to_thread(_release, kind, make_session, argument))
            raise
        except Exception as failure:
            result, error = None, failure
        await asyncio.to_thread(_finish, kind, make_session, argument, result, error)
        if error is not None and kind.retries:
            raise error  # procrastinate schedules the next attempt

    job.__name__ = kind.task.replace("-", "_")
    return job


def _claim(kind: Kind, make_session: SessionFactory, argument: str) -> bool:
    with make_session() as session:
        return kind.claim(session, argument, utcnow())


def _finish(
    kind: Kind,
    make_session: SessionFactory,
    argument: str,
    result: Any,
    error: BaseException | None,
) -> None:
    with make_session() as session:
        kind.finish(session, argument, result, error)


def _release(kind: Kind, make_session: SessionFactory, argument: str) -> None:
    _put_back(kind, make_session, argument)
    queue.send(task=kind.task, argument=argument)


def build_app(
    *, engine: Engine, make_session: SessionFactory, pool: _Pool, database_url: str
) -> procrastinate.App:
    """The worker's procrastinate app: one task per kind, and the two periodic duties."""
    settings = get_settings()
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(database_url), min_size=1, max_size=pool.processes + 2
        )
    )
    kinds = {kind.task: kind for kind in engine.kinds}
    for kind in engine.kinds:
        retry = (
            procrastinate.RetryStrategy(max_attempts=kind.retries, wait=RETRY_WAIT)
            if kind.retries
            else False
        )
        app.task(name=kind.task, queue=QUEUE, retry=retry)(_job_function(kind, pool, make_session))

    async def upkeep(timestamp: int) -> None:
        await _upkeep(app=app, kinds=kinds, make_session=make_session)

    async def maintenance(timestamp: int) -> None:
        await asyncio.to_thread(_duty, engine.maintenance, make_session)
        # Ended jobs stay a while, with their events (when sent, started, ended), to look into.
        await app.job_manager.delete_old_jobs(
            nb_hours=KEEP_JOBS_HOURS,
            queue=QUEUE,
            include_failed=True,
            include_cancelled=True,
            include_aborted=True,
        )

    async def hourly(timestamp: int) -> None:
        await asyncio.to_thread(_duty, engine.hourly, make_session)

    every = settings.job_upkeep_seconds
    periodic = app.periodic(cron=f"* * * * * */{every}", periodic_id="upkeep")
    periodic(app.task(name=UPKEEP_TASK, queue=QUEUE, priority=DUTY_PRIORITY)(upkeep))
    periodic = app.periodic(cron="* * * * *", periodic_id="maintenance")
    periodic(app.task(name=MAINTENANCE_TASK, queue=QUEUE, priority=DUTY_PRIORITY)(maintenance))
    periodic = app.periodic(cron="17 * * * *", periodic_id="hourly")
    periodic(app.task(name=HOURLY_TASK, queue=QUEUE, priority=DUTY_PRIORITY)(hourly))
    return app


def _duty(duty: Callable[[Session, datetime], None], make_session: SessionFactory) -> None:
    with make_session() as session:
        duty(session, utcnow())


async def _upkeep(
    *, app: procrastinate.App, kinds: dict[str, Kind], make_session: SessionFactory
) -> None:
    """Jobs of dead workers run again; waiting items without a job get one; depth is logged."""
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=get_settings().job_stalled_seconds
    )
    for job in stalled:
        kind = kinds.get(job.task_name)
        argument = str(job.task_kwargs.get("argument", ""))
        log.warning("job %s (%s %s) was on a worker that stopped", job.id, job.task_name, argument)
        if kind is not None:
            # Its item waits again; the sweep below sends it a new job.
            await asyncio.to_thread(_put_back, kind, make_session, argument)
        await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
    sent = await asyncio.to_thread(sweep, kinds=list(kinds.values()), make_session=make_session)
    if sent:
        log.warning("sent %s job(s) for work that had none (a send was lost)", sent)
    waiting, running = await asyncio.to_thread(depth)
    log.info("queue: %s waiting, %s running", waiting, running)


def _put_back(kind: Kind, make_session: SessionFactory, argument: str) -> None:
    with make_session() as session:
        kind.release(session, argument)


def sweep(*, kinds: list[Kind], make_session: SessionFactory) -> int:
    """Send a job for every waiting item that has none; returns how many were sent."""
    sent = 0
    for kind in kinds:
        with make_session() as session:
            waiting = kind.waiting(session, SWEEP_BATCH)
        if not waiting:
            continue
        with_jobs = _with_jobs(kind.task, waiting)
        for argument in waiting:
            if argument not in with_jobs:
                send(kind.task, argument)
                sent += 1
    return sent


def _with_jobs(task: str, arguments: list[str]) -> set[str]:
    """Of these items, those with a job waiting or running."""
    rows = _query(
        "SELECT args->>'argument' AS argument FROM procrastinate_jobs "
        "WHERE task_name = %(task)s AND status IN ('todo', 'doing') "
        "AND args->>'argument' = ANY(%(arguments)s)",
        task=task,
        arguments=arguments,
    )
    return {row["argument"] for row in rows}


def _query(query: LiteralString, **parameters: Any) -> list[dict[str, Any]]:
    """Rows of a query on procrastinate's tables, over this process's sending connections."""
    app = _sender_app(get_settings().resolved_database_url)
    return list(app.connector.get_sync_connector().execute_query_all(query, **parameters))


def depth() -> tuple[int, int]:
    """(jobs waiting, jobs running) of ConsentLens's queue."""
    rows = _query(
        "SELECT status, count(*) AS n FROM procrastinate_jobs "
        "WHERE queue_name = %(queue)s AND status IN ('todo', 'doing') GROUP BY status",
        queue=QUEUE,
    )
    counts = {row["status"]: row["n"] for row in rows}
    return counts.get("todo", 0), counts.get("doing", 0)


def run_worker(*, engine: Engine, make_session: SessionFactory, processes: int) -> None:
    """Work until stopped (SIGINT or SIGTERM: running jobs finish first, then the pool ends)."""
    engine.preflight()
    asyncio.run(_work(engine=engine, make_session=make_session, processes=processes))


async def _work(*, engine: Engine, make_session: SessionFactory, processes: int) -> None:
    settings = get_settings()
    pool = _Pool(processes, engine.warm_up)
    app = build_app(
        engine=engine,
        make_session=make_session,
        pool=pool,
        database_url=settings.resolved_database_url,
    )
    try:
        async with app.open_async():
            await app.run_worker_async(
                queues=[QUEUE],
                # One job per analysis process: a worker takes no photo it cannot start at
                # once (an idle worker elsewhere would get it). The periodic duties take a turn
                # like a photo, first in line (their priority), and last milliseconds.
                concurrency=processes,
                update_heartbeat_interval=settings.job_heartbeat_seconds,
                stalled_worker_timeout=settings.job_stalled_seconds,
                shutdown_graceful_timeout=30,
                delete_jobs="never",
                install_signal_handlers=True,
            )
    finally:
        pool.close()
        close_sender()
