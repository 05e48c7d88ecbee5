"""Time-driven duties the worker runs every minute, across rooms (so it sits beside wiring).

Verdicts whose consent lapsed, enrolments whose consent lapsed, takedowns to flag and announce,
retention, ended sign-in sessions, e-mails due again, and embeddings of unidentified faces past
their keeping time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from consentlens.auth import sessions
from consentlens.backup import schedule
from consentlens.core.config import get_settings
from consentlens.faces import analysis, enrollment, processing, verdicts
from consentlens.faces.models import Face, FaceState, ReferenceFace, StoredVerdict
from consentlens.organisations.models import Organisation
from consentlens.outbox import service as outbox
from consentlens.photos.models import Photo
from consentlens.publishing import retention, takedowns


def run(session: Session, now: datetime) -> None:
    """Every duty once, in one go (commits)."""
    processing.reclaim_expired(session, now)
    processing.retry_after_outage(session=session, now=now)
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
        takedowns.flag_lapsed(session=session, organisation=organisation, now=now)
        takedowns.notify_takedowns(session=session, organisation=organisation, now=now)
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
    # Mails due again (a failed attempt's wait is over, or a job was lost) leave at the commit.
    outbox.retry_due(session=session, now=now)
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
    # Last, and in a thread of its own: a backup may take minutes.
    schedule.start_if_due(now)
