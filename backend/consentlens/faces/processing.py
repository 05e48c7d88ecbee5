"""The photo-analysis queue: claim pending photos, store each one's faces and verdicts.

The photos table is the queue. A photo is claimed (`pending` → `processing`), analysed in a pool
process (`jobs.worker`), and its faces and verdicts are written in one transaction. A photo left
`processing` by a crash goes back to `pending` when a worker starts (or when its claim is older
than the lease), so nothing is lost and nothing is analysed twice at once by the embedded worker.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from consentlens.core.tables import utcnow
from consentlens.faces import analysis
from consentlens.faces.detector import PhotoFaces
from consentlens.faces.imaging import UnreadablePhoto
from consentlens.organisations.models import Organisation
from consentlens.photos import storage
from consentlens.photos.models import Photo, PhotoStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
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
    *,
    session: Session,
    photo_id: int,
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


def process_next(*, session: Session, now: datetime | None = None) -> Photo | None:
    """Claim and analyse one photo in this process: the CLI's `--drain` and the tests use it."""
    claimed = claim(session, 1, now or utcnow())
    if not claimed:
        return None
    photo_id, path = claimed[0]
    try:
        result = analysis.analyse_file(path)
    except Exception as error:
        return finish(session=session, photo_id=photo_id, error=error, now=now)
    return finish(session=session, photo_id=photo_id, result=result, now=now)


def store_outcome(
    session: Session, photo_id: int, result: PhotoFaces | None, error: BaseException | None
) -> None:
    """The pool's `finish`: one analysed (or failed) photo."""
    finish(session=session, photo_id=photo_id, result=result, error=error)
