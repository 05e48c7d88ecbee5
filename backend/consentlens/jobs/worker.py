"""The pool that runs background work, in the web process (embedded default) or on its own.

It knows no domain: what to claim, how to run it and where to store the outcome come in a
`Queue` that `consentlens.wiring` assembles. The database is the queue; a crash loses nothing
because claims are leased and taken back by the queue's own start-up and maintenance.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from consentlens.core import transactions
from consentlens.core.config import get_settings
from consentlens.core.tables import utcnow

log = logging.getLogger(__name__)

MAINTENANCE_EVERY = timedelta(minutes=1)
# How long a broken pool waits for a stop request before it blames the job.
STOP_GRACE = 3.0
# How often a pool process checks that the process that started it is still there.
PARENT_CHECK_SECONDS = 1.0
SessionFactory = Callable[[], Session]


@dataclass(frozen=True, slots=True)
class Spread:
    """How one job is shared among processes that would otherwise be idle.

    Each of n processes runs `part(argument, k, n)`; the worker hands the n results, in order, to
    `combine(argument, parts)` and runs `join(argument, combined)` in a pool process, which
    completes the job as `run` would have.
    """

    part: Callable[[str, int, int], Any]
    combine: Callable[[str, list[Any]], Any]
    join: Callable[[str, Any], Any]


@dataclass(frozen=True, slots=True)
class Queue:
    """One kind of durable background work, as the pool sees it."""

    name: str
    # Raise unless the process is wired (guards, listeners): checked before the pool starts.
    preflight: Callable[[], None]
    # What a crash left behind, once per start.
    start_up: Callable[[Session, datetime], None]
    # Up to `limit` jobs as (id, argument), marked as taken; commits.
    claim: Callable[[Session, int, datetime], list[tuple[int, str]]]
    # Runs in a pool process: a module-level function, so that it can be pickled.
    run: Callable[[str], Any]
    # Stores a job's result or its error; commits.
    finish: Callable[[Session, int, Any, BaseException | None], None]
    # Loads what `run` needs once per pool process (the face models).
    warm_up: Callable[[], None]
    # Time-driven duties, every MAINTENANCE_EVERY; commits.
    maintenance: Callable[[Session, datetime], None]
    # A job that arrives alone, while every process is free, is shared among them.
    spread: Spread | None = None


@dataclass(slots=True)
class _Job:
    """A job in the pool: one future, or one per share while it is spread."""

    job_id: int
    argument: str
    parts: list[Any] | None = None
    shares: dict[Future[Any], int] = field(default_factory=dict)
    waiting: int = 0
    error: BaseException | None = None


class Interrupted(RuntimeError):
    """The pool was stopped from outside (Ctrl-C, a stop signal to the process group) while the
    job ran: no fault of the job, which goes back to the queue without counting an attempt."""


# How processes that were stopped, not crashed, end: KeyboardInterrupt, SIGINT, SIGTERM.
_STOPPED = {1, -signal.SIGINT, -signal.SIGTERM}


def pool_size() -> int:
    configured = get_settings().worker_processes
    return configured or os.cpu_count() or 1


class Worker:
    """Claims jobs from one queue and runs them in a pool of processes."""

    def __init__(
        self, make_session: SessionFactory, queue: Queue, processes: int | None = None
    ) -> None:
        self.make_session = make_session
        self.queue = queue
        self.processes = processes or pool_size()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The current pool's processes, kept to read how they ended if the pool breaks.
        self._handles: list[Any] = []

    def start(self) -> None:
        # The worker may run in a process of its own: its entry point must have called
        # `consentlens.wiring`, or it does not start.
        self.queue.preflight()
        with self.make_session() as session:
            self.queue.start_up(session, utcnow())
        self._thread = threading.Thread(target=self._run, name=self.queue.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: the web process has threads (and dlib state) that fork would copy.
        return ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=prepare_process,
            initargs=(self.queue.warm_up, os.getpid()),
        )

    def _claim(self, pool: ProcessPoolExecutor, in_flight: dict[Future[Any], _Job]) -> None:
        now = utcnow()
        with self.make_session() as session:
            free = self.processes - len(in_flight)
            claimed = self.queue.claim(session, free, now) if free > 0 else []
        spread = self.queue.spread
        if spread is not None and len(claimed) == 1 and free == self.processes > 1:
            # Alone in an idle pool: a large photo (a team photo) uses every core, not one.
            job_id, argument = claimed[0]
            job = _Job(job_id, argument, parts=[None] * self.processes, waiting=self.processes)
            for share in range(self.processes):
                future = pool.submit(spread.part, argument, share, self.processes)
                job.shares[future] = share
                in_flight[future] = job
            log.info("%s: job %s shared among %s processes", self.queue.name, job_id, free)
            return
        for job_id, argument in claimed:
            in_flight[pool.submit(self.queue.run, argument)] = _Job(job_id, argument)

    def _finish(
        self, pool: ProcessPoolExecutor, done: set[Future[Any]], in_flight: dict[Future[Any], _Job]
    ) -> bool:
        """Store each finished job; True when a crashed process broke the pool."""
        broken = False
        interrupted: bool | None = None
        for future in done:
            job = in_flight.pop(future)
            error = future.exception()
            if isinstance(error, BrokenProcessPool):
                if interrupted is None:  # judged once for all the jobs of the broken pool
                    interrupted = self._stopped_from_outside()
                if interrupted:
                    error = Interrupted("the analysis processes were stopped")
                broken = True
            result = future.result() if error is None else None
            if job.parts is not None and not isinstance(error, BrokenProcessPool | Interrupted):
                if not self._gather(pool, future, job, result, error, in_flight):
                    continue
                result, error = None, job.error
            try:
                with self.make_session() as session:
                    self.queue.finish(session, job.job_id, result, error)
            except Exception:
                log.exception("%s: storing job %s failed", self.queue.name, job.job_id)
        return broken

    def _gather(
        self,
        pool: ProcessPoolExecutor,
        future: Future[Any],
        job: _Job,
        result: Any,
        error: BaseException | None,
        in_flight: dict[Future[Any], _Job],
    ) -> bool:
        """Collect one share of a spread job; True when the job is over (failed)."""
        assert job.parts is not None and self.queue.spread is not None
        job.waiting -= 1
        job.error = job.error or error
        if error is None:
            job.parts[job.shares[future]] = result
        if job.waiting:
            return False
        if job.error is not None:
            return True
        try:
            combined = self.queue.spread.combine(job.argument, job.parts)
        except Exception as failure:
            job.error = failure
            return True
        in_flight[pool.submit(self.queue.spread.join, job.argument, combined)] = _Job(
            job.job_id, job.argument
        )
        return False

    def _stopped_from_outside(self) -> bool:
        """A broken pool whose processes all ended as stopped ones do (none crashed), or one
        that broke just before this worker was told to stop (Ctrl-C reaches the whole group:
        the pool processes die at once, the stop request follows a moment later)."""
        for handle in self._handles:
            handle.join(1)
        codes = [handle.exitcode for handle in self._handles]
        if codes and all(code in _STOPPED for code in codes):
            return True
        if self._stop.wait(STOP_GRACE):
            return True
        log.warning("%s: an analysis process crashed (exit codes %s)", self.queue.name, codes)
        return False

    def _run(self) -> None:
        pool = self._new_pool()
        in_flight: dict[Future[Any], _Job] = {}
        last_maintenance = datetime.min.replace(tzinfo=utcnow().tzinfo)
        try:
            while not self._stop.is_set():
                try:
                    now = utcnow()
                    if now - last_maintenance >= MAINTENANCE_EVERY:
                        with self.make_session() as session:
                            self.queue.maintenance(session, now)
                        last_maintenance = now
                    self._claim(pool, in_flight)
                    self._handles = list((getattr(pool, "_processes", None) or {}).values())
                except Exception:
                    log.exception("%s: claiming failed", self.queue.name)
                if not in_flight:
                    self._wake.wait(2.0)
                    self._wake.clear()
                    continue
                done, _ = wait(list(in_flight), timeout=2.0, return_when=FIRST_COMPLETED)
                if self._stop.is_set():
                    # Stopping: what was cut off is no failure of its job; the queue's start-up
                    # takes it back next time.
                    break
                if self._finish(pool, done, in_flight):
                    # A crashed process (e.g. a decoder fault) breaks the whole pool.
                    end_pool(pool)
                    pool = self._new_pool()
        finally:
            end_pool(pool)


def prepare_process(warm_up: Callable[[], None], parent: int) -> None:
    """First thing in a pool process: Ctrl-C is for the parent, which ends the pool itself (a
    pool process interrupted mid-job would count as the job failing); the process ends when its
    parent (`parent`, the pid that made the pool: it may be gone before this runs) is gone; then
    the queue's warm-up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with, args=(parent,), name="parent-watch", daemon=True).start()
    warm_up()


def _end_with(parent: int) -> None:
    # A parent killed with SIGKILL cannot end its pool: its processes would go on with the job
    # at hand (storing a photo another worker now owns) and then wait for work forever.
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def end_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now, its running jobs included: spawned processes outlive their parent, so a
    server stopped with SIGTERM would otherwise leave them running (and storing) on their own."""
    # Copied first: shutting down lets the pool forget its processes.
    handles = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for handle in handles:
        if handle.is_alive():
            handle.terminate()
    for handle in handles:
        handle.join(5)


_running: Worker | None = None


def start_embedded(*, make_session: SessionFactory, queue: Queue) -> Worker:
    """Start the worker inside this (web) process."""
    global _running
    _running = Worker(make_session, queue)
    _running.start()
    return _running


def stop_embedded() -> None:
    global _running
    if _running is not None:
        _running.stop()
        _running = None


def embedded_running() -> bool:
    """Whether this process runs the embedded worker (and its thread is alive)."""
    thread = _running._thread if _running is not None else None
    return thread is not None and thread.is_alive()


def wake() -> None:
    """Tell the embedded worker new work is waiting (no-op without one)."""
    if _running is not None:
        _running.wake()


def wake_after_commit(*, session: Session) -> None:
    """Wake the worker once this transaction commits: before, it cannot see the new work."""
    transactions.on_commit(session=session, action=wake)
