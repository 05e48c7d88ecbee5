"""The photo worker: analyses pending photos in a pool of processes, durably.

The database is the queue. A photo is claimed (`pending` → `processing`), analysed in a worker
process, and its faces and verdicts are written in one transaction. A photo left `processing` by
a crash goes back to `pending` when a worker starts (or when its claim is older than the lease),
so nothing is lost and nothing is analysed twice at once by the embedded worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from consentlens.auth import sessions
from consentlens.consent import events
from consentlens.core.config import get_settings
from consentlens.db.base import utcnow
from consentlens.db.guards import require_append_only_guards
from consentlens.organisations.models import Organisation
from consentlens.photos import analysis, enrollment, publishing, retention, storage, verdicts
from consentlens.photos.faces.detector import PhotoFaces
from consentlens.photos.faces.imaging import UnreadablePhoto
from consentlens.photos.models import (
    Face,
    FaceState,
    Photo,
    PhotoStatus,
    ReferenceFace,
    StoredVerdict,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
LEASE = timedelta(minutes=10)
MAINTENANCE_EVERY = timedelta(minutes=1)
SessionFactory = Callable[[], Session]


def recover(session: Session) -> int:
    """Put photos a crashed worker left `processing` back in the queue (start-up)."""
    result = session.exec(
        update(Photo)
        .where(col(Photo.status) == PhotoStatus.PROCESSING.value)
        .values(status=PhotoStatus.PENDING.value, claimed_at=None)
    )
    session.commit()
    return result.rowcount or 0


def start_up(session: Session, now: datetime) -> None:
    """What a crash left: photos claimed by a dead worker, and files of interrupted uploads."""
    recovered = recover(session)
    if recovered:
        log.info("re-queued %s photo(s) left processing by an earlier run", recovered)
    try:
        swept = storage.sweep(session=session, now=now)
    except Exception:
        # Leftover files take space but no harm: failing to sweep must not stop the worker.
        log.exception("sweeping interrupted uploads failed")
        return
    if swept:
        log.info("removed %s file(s) left by interrupted uploads", swept)


def reclaim_expired(session: Session, now: datetime) -> int:
    """Claims older than the lease belong to a worker that died; queue those photos again."""
    result = session.exec(
        update(Photo)
        .where(
            col(Photo.status) == PhotoStatus.PROCESSING.value,
            col(Photo.claimed_at) < now - LEASE,
        )
        .values(status=PhotoStatus.PENDING.value, claimed_at=None)
    )
    session.commit()
    return result.rowcount or 0


def claim(session: Session, limit: int, now: datetime) -> list[tuple[int, str]]:
    """Mark up to `limit` pending photos as processing; (photo id, original path) of each."""
    candidates = session.exec(
        select(Photo.id)
        .where(Photo.status == PhotoStatus.PENDING.value)
        .order_by(col(Photo.id))
        .limit(limit)
    ).all()
    claimed = []
    for photo_id in candidates:
        # Conditional update: if another worker took it meanwhile, zero rows change.
        result = session.exec(
            update(Photo)
            .where(col(Photo.id) == photo_id, col(Photo.status) == PhotoStatus.PENDING.value)
            .values(
                status=PhotoStatus.PROCESSING.value,
                claimed_at=now,
                attempts=Photo.attempts + 1,
            )
        )
        if result.rowcount == 1:
            ref = session.exec(select(Photo.original_ref).where(Photo.id == photo_id)).one()
            assert photo_id is not None
            claimed.append((photo_id, str(storage.path_of(ref))))
    session.commit()
    return claimed


def finish(
    session: Session,
    photo_id: int,
    *,
    result: PhotoFaces | None = None,
    error: BaseException | None = None,
    now: datetime | None = None,
) -> Photo | None:
    """Store an analysis result, or record the failure (retried until MAX_ATTEMPTS)."""
    now = now or utcnow()
    photo = session.get(Photo, photo_id)
    if photo is None or photo.status != PhotoStatus.PROCESSING.value:
        session.rollback()
        return photo  # deleted meanwhile, or reclaimed: the result is not ours to store
    organisation = session.get(Organisation, photo.organisation_id)
    assert organisation is not None
    if result is not None:
        analysis.apply(
            session=session, organisation=organisation, photo=photo, result=result, now=now
        )
    else:
        permanent = isinstance(error, UnreadablePhoto) or photo.attempts >= MAX_ATTEMPTS
        photo.status = (PhotoStatus.FAILED if permanent else PhotoStatus.PENDING).value
        photo.error = f"{type(error).__name__}: {error}"[:500] if error else "unknown error"
        photo.claimed_at = None
        session.add(photo)
        log.warning("photo %s analysis failed (attempt %s): %s", photo_id, photo.attempts, error)
    session.commit()
    return photo


def process_next(session: Session, now: datetime | None = None) -> Photo | None:
    """Claim and analyse one photo in this process: the CLI's `--drain` and the tests use it."""
    claimed = claim(session, 1, now or utcnow())
    if not claimed:
        return None
    photo_id, path = claimed[0]
    try:
        result = analysis.analyse_file(path)
    except Exception as error:
        return finish(session, photo_id, error=error, now=now)
    return finish(session, photo_id, result=result, now=now)


def maintenance(session: Session, now: datetime) -> None:
    """Time-driven duties: verdicts whose consent lapsed, lapsed enrolments, old embeddings."""
    for organisation in session.exec(select(Organisation)).all():
        stale = session.exec(
            select(StoredVerdict.photo_id)
            .join(Photo, col(Photo.id) == StoredVerdict.photo_id)
            .where(
                Photo.organisation_id == organisation.id,
                col(StoredVerdict.valid_until) <= now,
            )
            .distinct()
        ).all()
        verdicts.refresh(session=session, organisation=organisation, photo_ids=stale, now=now)
        enrolled = set(
            session.exec(
                select(ReferenceFace.child_id)
                .where(ReferenceFace.organisation_id == organisation.id)
                .distinct()
            )
        )
        allowed = analysis.recognisable_children(
            session=session, organisation=organisation, child_ids=enrolled, now=now
        )
        publishing.flag_lapsed(session=session, organisation=organisation, now=now)
        publishing.notify_takedowns(session=session, organisation=organisation, now=now)
        retention.delete_due(session=session, organisation=organisation, now=now)
        for child_id in sorted(enrolled - allowed):
            enrollment.forget_child(
                session=session,
                organisation=organisation,
                child_id=child_id,
                now=now,
                reason="Face-recognition consent is no longer effective.",
            )
    sessions.delete_ended(session=session, now=now)
    cutoff = now - timedelta(days=get_settings().unidentified_embedding_days)
    session.exec(
        update(Face)
        .where(
            col(Face.embedding).is_not(None),
            col(Face.child_id).is_(None),
            col(Face.created_at) < cutoff,
            col(Face.state) != FaceState.CONFIRMED.value,
        )
        .values(embedding=None)
    )
    session.commit()


def pool_size() -> int:
    configured = get_settings().worker_processes
    return configured or os.cpu_count() or 1


class PhotoWorker:
    """Runs in the web process (the embedded default) or alone (`consentlens worker`)."""

    def __init__(self, make_session: SessionFactory, processes: int | None = None) -> None:
        self.make_session = make_session
        self.processes = processes or pool_size()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        # The worker may run in a process of its own: its entry point (`consentlens worker`, the
        # app, a bench) must have called `consentlens.wiring`, or the worker does not start.
        require_append_only_guards()
        events.require_listeners()
        with self.make_session() as session:
            start_up(session, utcnow())
        self._thread = threading.Thread(target=self._run, name="photo-worker", daemon=True)
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
            initializer=analysis.warm_up,
        )

    def _run(self) -> None:
        pool = self._new_pool()
        in_flight: dict[Future[PhotoFaces], int] = {}
        last_maintenance = datetime.min.replace(tzinfo=utcnow().tzinfo)
        try:
            while not self._stop.is_set():
                now = utcnow()
                try:
                    with self.make_session() as session:
                        if now - last_maintenance >= MAINTENANCE_EVERY:
                            reclaim_expired(session, now)
                            maintenance(session, now)
                            last_maintenance = now
                        free = self.processes - len(in_flight)
                        for photo_id, path in claim(session, free, now) if free > 0 else []:
                            in_flight[pool.submit(analysis.analyse_file, path)] = photo_id
                except Exception:
                    log.exception("photo worker: claiming failed")
                if not in_flight:
                    self._wake.wait(2.0)
                    self._wake.clear()
                    continue
                done, _ = wait(list(in_flight), timeout=2.0, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    photo_id = in_flight.pop(future)
                    error = future.exception()
                    broken = broken or isinstance(error, BrokenProcessPool)
                    try:
                        with self.make_session() as session:
                            if error is None:
                                finish(session, photo_id, result=future.result())
                            else:
                                finish(session, photo_id, error=error)
                    except Exception:
                        log.exception("photo worker: storing photo %s failed", photo_id)
                if broken:
                    # A crashed analysis process (e.g. a decoder fault) breaks the whole pool.
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = self._new_pool()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


_running: PhotoWorker | None = None


def start_embedded(make_session: SessionFactory) -> PhotoWorker:
    global _running
    _running = PhotoWorker(make_session)
    _running.start()
    return _running


def stop_embedded() -> None:
    global _running
    if _running is not None:
        _running.stop()
        _running = None


def wake() -> None:
    """Tell the embedded worker new photos are waiting (no-op without one)."""
    if _running is not None:
        _running.wake()
