"""The photo-analysis queue: claim pending photos, store each one's faces and verdicts.

The photos table is the queue. A photo is claimed (`pending` → `processing`), analysed in a pool
process (`jobs.worker`), and its faces, verdicts and renderings are written by that process in
one transaction: `ready` means gallery-ready. An idle pool shares one photo's faces among its
processes (`run_share`, `combine`, `join`), so a lone team photo is not bound to one core.

A photo left `processing` by a crash goes back to `pending` when a worker starts (or when its
claim is older than the lease), so nothing is lost and nothing is analysed twice at once by the
embedded worker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta

from sqlalchemy import case
from sqlmodel import Session, col, select, update

from consentlens.consent.policy import VerdictAction
from consentlens.core import storage as stores
from consentlens.core.db import get_engine, writer_session
from consentlens.core.tables import utcnow
from consentlens.faces import analysis, derivatives, imaging, serving, verdicts
from consentlens.faces.detector import PhotoFaces, SharesDisagree, combine_shares
from consentlens.faces.imaging import UnreadablePhoto
from consentlens.jobs import queue
from consentlens.jobs.worker import Interrupted
from consentlens.organisations.models import Organisation
from consentlens.photos import storage
from consentlens.photos.models import Photo, PhotoStatus
from consentlens.photos.service import ANALYSIS_TASK

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
BEING_ANALYSED = (PhotoStatus.PENDING.value, PhotoStatus.PROCESSING.value)
LEASE = timedelta(minutes=10)


def recover(*, session: Session) -> int:
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
    recovered = recover(session=session)
    if recovered:
        log.info("re-queued %s photo(s) left processing by an earlier run", recovered)
    sweep_files(session, now)


def sweep_files(session: Session, now: datetime) -> None:
    """Files of interrupted uploads (no row points to them): at start-up, or hourly when the
    workers are distributed (their start-up must not take back other workers' photos)."""
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
    """Mark up to `limit` pending photos as processing; (photo id, the id as the job argument)."""
    claimed = [
        (int(argument), argument)
        for argument in waiting_photos(session, limit)
        if _take(session=session, photo_id=int(argument), now=now)
    ]
    session.commit()
    return claimed


def _take(*, session: Session, photo_id: int, now: datetime) -> bool:
    # Conditional update: if another worker took it meanwhile, zero rows change.
    result = session.exec(
        update(Photo)
        .where(col(Photo.id) == photo_id, col(Photo.status) == PhotoStatus.PENDING.value)
        .values(status=PhotoStatus.PROCESSING.value, claimed_at=now, attempts=Photo.attempts + 1)
    )
    return result.rowcount == 1


def original_ref(*, session: Session, photo_id: int) -> str:
    """The stored original's reference; `_original_file` gives the analysis a file of it."""
    return session.exec(select(Photo.original_ref).where(Photo.id == photo_id)).one()


@contextmanager
def _original_file(ref: str) -> Iterator[str]:
    """A local copy of the original for as long as the analysis runs.

    An original gone from the store cannot be analysed by retrying: it fails like an unreadable
    file. An outage (StorageUnavailable) is a failure like any other, retried.
    """
    with ExitStack() as stack:
        try:
            path = stack.enter_context(storage.local_copy(ref))
        except stores.Missing:
            raise UnreadablePhoto(f"No such file in the store: {ref}") from None
        yield str(path)


def store(
    *, session: Session, photo_id: int, result: PhotoFaces, now: datetime | None = None
) -> Photo | None:
    """Store an analysed photo: its faces, their identification, its verdicts and the renderings
    those verdicts serve, in one transaction; the photo is ready when this commits."""
    now = now or utcnow()
    # Locked: two analyses of one photo (a worker taken for dead that was not) store one after
    # the other, and the second finds the photo ready and stores nothing.
    photo = session.get(Photo, photo_id, with_for_update=True)
    if photo is None or photo.status != PhotoStatus.PROCESSING.value:
        session.rollback()
        return photo  # deleted meanwhile, or reclaimed: the result is not ours to store
    organisation = session.get(Organisation, photo.organisation_id)
    assert organisation is not None
    analysis.apply(session=session, organisation=organisation, photo=photo, result=result, now=now)
    if result.image is not None:
        (evaluation,) = verdicts.evaluate(
            session=session, organisation=organisation, photos=[photo], now=now
        )
        serving.prerender(evaluation=evaluation, organisation=organisation, image=result.image)
    session.commit()
    return photo


def record_failure(
    *, session: Session, photo_id: int, error: BaseException | None, now: datetime | None = None
) -> Photo | None:
    """Record a failed analysis; retried until MAX_ATTEMPTS unless the file is unreadable."""
    photo = session.get(Photo, photo_id)
    if photo is None or photo.status != PhotoStatus.PROCESSING.value:
        session.rollback()
        return photo
    if isinstance(error, Interrupted):
        # Stopped from outside mid-analysis: back in the queue, the attempt not counted.
        photo.status, photo.claimed_at = PhotoStatus.PENDING.value, None
        photo.attempts = max(0, photo.attempts - 1)
        session.add(photo)
        queue.enqueue(session=session, task=ANALYSIS_TASK, argument=str(photo_id))
        session.commit()
        log.info("photo %s: analysis interrupted, queued again", photo_id)
        return photo
    permanent = isinstance(error, UnreadablePhoto) or photo.attempts >= MAX_ATTEMPTS
    photo.status = (PhotoStatus.FAILED if permanent else PhotoStatus.PENDING).value
    photo.error = f"{type(error).__name__}: {error}"[:500] if error else "unknown error"
    photo.claimed_at = None
    session.add(photo)
    if not permanent:
        queue.enqueue(session=session, task=ANALYSIS_TASK, argument=str(photo_id))
    session.commit()
    log.warning("photo %s analysis failed (attempt %s): %s", photo_id, photo.attempts, error)
    return photo


def analyse_and_store(
    *, session: Session, photo_id: int, now: datetime | None = None
) -> Photo | None:
    """Analyse one claimed photo and store the outcome, a failure included."""
    try:
        ref = original_ref(session=session, photo_id=photo_id)
        session.rollback()  # no transaction stays open while the models run
        with _original_file(ref) as path:
            result = analysis.analyse_file(path)
    except Exception as error:
        return record_failure(session=session, photo_id=photo_id, error=error, now=now)
    return store(session=session, photo_id=photo_id, result=result, now=now)


def process_next(*, session: Session, now: datetime | None = None) -> Photo | None:
    """Claim and analyse one photo in this process: the CLI's `--drain` and the tests use it."""
    claimed = claim(session, 1, now or utcnow())
    if not claimed:
        return None
    return analyse_and_store(session=session, photo_id=claimed[0][0], now=now)


# What the pool processes run (`jobs.worker`): module-level functions, so they can be pickled.
# Each opens its own session: the process stores what it analysed, renderings included.


def run_job(argument: str) -> None:
    """Analyse and store one claimed photo; a failure is raised for the worker to record."""
    photo_id = int(argument)
    with Session(get_engine()) as session:
        ref = original_ref(session=session, photo_id=photo_id)
    with _original_file(ref) as path:
        result = analysis.analyse_file(path)
    with writer_session() as session:
        store(session=session, photo_id=photo_id, result=result)


def run_share(argument: str, share: int, shares: int) -> PhotoFaces:
    """One process's share of a photo that several idle processes analyse together."""
    with Session(get_engine()) as session:
        ref = original_ref(session=session, photo_id=int(argument))
    with _original_file(ref) as path:
        return analysis.analyse_share(path, share=share, shares=shares)


def combine(argument: str, parts: list[PhotoFaces]) -> PhotoFaces | None:
    """The shares put together; None (analyse it whole) if they disagree."""
    try:
        return combine_shares(parts)
    except SharesDisagree:
        log.warning("photo %s: the shares of its analysis disagree; analysing it whole", argument)
        return None


def join(argument: str, combined: PhotoFaces | None) -> None:
    """Store a photo analysed in shares."""
    if combined is None:
        run_job(argument)
        return
    with writer_session() as session:
        store(session=session, photo_id=int(argument), result=combined)


def store_outcome(
    session: Session, photo_id: int, result: object, error: BaseException | None
) -> None:
    """The pool's `finish`: the pool process stored a success; a failure is recorded here."""
    if error is not None:
        record_failure(session=session, photo_id=photo_id, error=error)


# The photo queue as the distributed engine sees it (`jobs.distributed.Kind`): a job names one
# photo; the photo's status says whether there is still work to do.


def claim_photo(session: Session, argument: str, now: datetime) -> bool:
    """Take the job's photo if it still waits; False: analysed, deleted or taken already."""
    taken = _take(session=session, photo_id=int(argument), now=now)
    session.commit()
    return taken


def release_photo(session: Session, argument: str) -> None:
    """A claimed photo whose job will not finish waits again, the attempt not counted."""
    session.exec(
        update(Photo)
        .where(col(Photo.id) == int(argument), col(Photo.status) == PhotoStatus.PROCESSING.value)
        .values(
            status=PhotoStatus.PENDING.value,
            claimed_at=None,
            attempts=case((col(Photo.attempts) > 0, Photo.attempts - 1), else_=0),
        )
    )
    session.commit()


def finish_photo(
    session: Session, argument: str, result: object, error: BaseException | None
) -> None:
    """The job's end: `run_job` stored a success; a failure is recorded (and retried) here."""
    store_outcome(session, int(argument), result, error)


def waiting_photos(session: Session, limit: int) -> list[str]:
    """Photos waiting for analysis, oldest first: each should have a job."""
    ids = session.exec(
        select(Photo.id)
        .where(Photo.status == PhotoStatus.PENDING.value)
        .order_by(col(Photo.id))
        .limit(limit)
    ).all()
    return [str(photo_id) for photo_id in ids]


def render_photo(argument: str) -> None:
    """The render job: a photo's renderings brought up to its verdicts of now (after a consent
    change re-judged it): those no longer served go, those served are made from the original."""
    with Session(get_engine()) as session:
        render(session=session, photo_id=int(argument))


def render(*, session: Session, photo_id: int) -> None:
    """`render_photo` in a session of the caller's."""
    photo = session.get(Photo, photo_id)
    if photo is None or photo.status in BEING_ANALYSED:
        return  # deleted, or its analysis stores its renderings
    organisation = session.get(Organisation, photo.organisation_id)
    assert organisation is not None
    (evaluation,) = verdicts.evaluate(
        session=session, organisation=organisation, photos=[photo], now=utcnow()
    )
    keep = verdicts.current_derivatives(evaluation=evaluation, organisation=organisation)
    # Raises while the store is down: the job is retried until the stale files are gone.
    storage.remove_derivatives(photo_id=photo_id, keep_names=keep, strict=True)
    if not any(v.action is not VerdictAction.HIDE for v in evaluation.verdicts.values()):
        return
    try:
        with _original_file(photo.original_ref) as path:
            image = imaging.load_for_analysis(path, max_side=max(derivatives.SIZES.values()))
    except (OSError, UnreadablePhoto) as error:
        # Served lazily then (or refused, as the request path would); nothing to retry.
        log.warning("photo %s: no renderings made ahead: %s", photo_id, error)
        return
    serving.prerender(evaluation=evaluation, organisation=organisation, image=image)


def retry_after_outage(*, session: Session, now: datetime) -> int:
    """Photos whose attempts all failed because the store was down are queued again once it is
    back (every minute): an outage says nothing about the photo. Returns how many."""
    failed = session.exec(
        select(Photo.id)
        .where(
            Photo.status == PhotoStatus.FAILED.value,
            col(Photo.error).startswith(f"{stores.StorageUnavailable.__name__}:"),
        )
        .limit(1000)
    ).all()
    if not failed:
        return 0
    try:
        stores.get_store().check()
    except stores.StorageUnavailable:
        return 0
    session.exec(
        update(Photo)
        .where(col(Photo.id).in_(failed), col(Photo.status) == PhotoStatus.FAILED.value)
        .values(status=PhotoStatus.PENDING.value, attempts=0, error="", claimed_at=None)
    )
    for photo_id in failed:
        queue.enqueue(session=session, task=ANALYSIS_TASK, argument=str(photo_id))
    session.commit()
    log.info("queued %s photo(s) again that failed while the store was down", len(failed))
    return len(failed)
