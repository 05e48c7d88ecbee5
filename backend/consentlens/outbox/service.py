"""Queueing e-mail with the work that causes it, and delivering it once that work is committed.

A mail written inside a request used to leave before the request committed: a failed commit
could leave a sent link that does not exist, and a slow mail server held the request. Now the
request writes an `OutgoingMail` row in its own transaction and the job engine delivers it
after the commit (`jobs.queue.enqueue`): the embedded engine in this process (after the
request's response is sent, `core.after_response`), the distributed one on any worker. A failed
delivery is tried again with growing waits, then given up on (at once when the mail server
refuses it for good), audited each way. Delivery is at least once: a sender that dies after the
mail server accepted a message, before it recorded so, sends it again when its claim runs out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, or_
from sqlmodel import Session, col, delete, select, update

from consentlens.audit import service as audit
from consentlens.core import after_response
from consentlens.core.db import writer_session
from consentlens.core.i18n import N_
from consentlens.core.mail import Mail, MailError, get_mailer
from consentlens.core.tables import utcnow
from consentlens.jobs import queue
from consentlens.outbox.models import OutgoingMail

log = logging.getLogger(__name__)

MAIL_TASK = "mail-delivery"
# Long enough for a slow mail server's timeouts; a dead sender's mail waits this long at most.
CLAIM = timedelta(minutes=5)
# The wait after each failed attempt; after the last one the mail is given up on (~1 day).
WAITS = tuple(timedelta(minutes=m) for m in (1, 5, 15, 60, 3 * 60, 6 * 60, 12 * 60))
# Delivered and given-up rows (their bodies already emptied) are kept this long for the staff
# pages, then deleted; the audit trail keeps the outcome.
KEEP = timedelta(days=30)
SWEEP_LIMIT = 1000
# What staff read for a mail's purpose (the pages' global `mail_purposes`).
PURPOSE_LABELS = {
    "consent.invitation": N_("Invitation"),
    "consent.reminder": N_("Reminder"),
    "consent.renewal": N_("New season"),
    "consent.receipt": N_("Receipt of answers"),
    "people.guardian_request": N_("Guardian request"),
    "photos.takedown": N_("Take-down notice"),
    "auth.password_reset": N_("Password link"),
    "auth.staff_invitation": N_("Staff invitation"),
}


def queue_mail(
    *, session: Session, mail: Mail, purpose: str, organisation_id: int | None = None
) -> OutgoingMail:
    """Write the mail to the outbox; it leaves once this transaction commits (never if not)."""
    row = OutgoingMail(
        organisation_id=organisation_id,
        purpose=purpose[:60],
        recipient=mail.to[:254],
        sender_name=mail.sender_name[:200],
        reply_to=mail.reply_to[:254],
        subject=mail.subject[:300],
        body=mail.text,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    _enqueue(session=session, mail_id=row.id)
    return row


def _enqueue(*, session: Session, mail_id: int) -> None:
    bind = session.get_bind()

    def embedded() -> None:
        # In a request: after its response is sent, so a slow mail server never holds the page
        # (nor tells, by its delay, whether an address has an account). Elsewhere: now.
        if not after_response.defer(lambda: _deliver_on(bind, mail_id)):
            _deliver_on(bind, mail_id)

    queue.enqueue(session=session, task=MAIL_TASK, argument=str(mail_id), embedded=embedded)


def _deliver_on(bind: Engine | Connection, mail_id: int) -> None:
    # After the commit, on the committing session's database (a test's connection included).
    try:
        with Session(bind=bind, join_transaction_mode="create_savepoint") as session:
            deliver(session=session, mail_id=mail_id, now=utcnow())
    except Exception:
        # The row stays due: the next maintenance round tries again.
        log.exception("delivering mail %s failed", mail_id)


def _due(now: datetime) -> Any:
    return (
        col(OutgoingMail.sent_at).is_(None),
        col(OutgoingMail.given_up_at).is_(None),
        col(OutgoingMail.next_attempt_at) <= now,
        or_(col(OutgoingMail.claimed_until).is_(None), col(OutgoingMail.claimed_until) < now),
    )


def claim(session: Session, argument: str, now: datetime) -> bool:
    """Take this mail for one attempt (False: sent, given up, not due, or taken); commits."""
    result = session.exec(
        update(OutgoingMail)
        .where(col(OutgoingMail.id) == int(argument), *_due(now))
        .values(claimed_until=now + CLAIM)
    )
    session.commit()
    return bool(result.rowcount)


def release(session: Session, argument: str) -> None:
    """A claimed mail whose job will not finish: due again (commits)."""
    session.exec(
        update(OutgoingMail)
        .where(col(OutgoingMail.id) == int(argument), col(OutgoingMail.sent_at).is_(None))
        .values(claimed_until=None)
    )
    session.commit()


def waiting(session: Session, limit: int) -> list[str]:
    """Mails due for an attempt with nobody on them, oldest first: what the sweep sends."""
    now = utcnow()
    ids = session.exec(
        select(OutgoingMail.id)
        .where(*_due(now))
        .order_by(col(OutgoingMail.next_attempt_at), col(OutgoingMail.id))
        .limit(limit)
    ).all()
    return [str(i) for i in ids]


def deliver(*, session: Session, mail_id: int, now: datetime) -> bool | None:
    """One attempt, if the mail is due and free: True sent, False failed, None not attempted."""
    if not claim(session, str(mail_id), now):
        return None
    return _attempt(session=session, mail_id=mail_id)


def deliver_job(argument: str) -> None:
    """The distributed engine's job (in a pool process): the attempt its worker claimed."""
    with writer_session() as session:
        _attempt(session=session, mail_id=int(argument))


def _attempt(*, session: Session, mail_id: int) -> bool | None:
    # No database connection is held while the mail server is talked to (the claim is
    # committed): a slow mail server must not starve the pool.
    row = session.get(OutgoingMail, mail_id)
    if row is None or row.sent_at is not None or row.given_up_at is not None:
        return None
    mail = Mail(
        to=row.recipient,
        subject=row.subject,
        text=row.body,
        reply_to=row.reply_to,
        sender_name=row.sender_name,
    )
    session.commit()
    try:
        get_mailer().send(mail)
    except MailError as error:
        _failed(
            session=session,
            mail_id=mail_id,
            error=str(error),
            now=utcnow(),
            permanent=error.permanent,
        )
        return False
    _sent(session=session, mail_id=mail_id, now=utcnow())
    return True


def finish(session: Session, argument: str, result: object, error: BaseException | None) -> None:
    """A job that crashed (not a refused mail: that is stored by the job): due again."""
    if error is not None:
        log.warning("mail job %s failed: %s", argument, error)
        release(session, argument)


def _sent(*, session: Session, mail_id: int, now: datetime) -> None:
    row = session.get(OutgoingMail, mail_id)
    assert row is not None
    row.sent_at, row.claimed_until, row.attempts, row.body = now, None, row.attempts + 1, ""
    row.last_error = ""
    session.add(row)
    audit.record(
        session=session,
        action="mail.sent",
        organisation_id=row.organisation_id,
        subject_type="mail",
        subject_id=mail_id,
        details={"purpose": row.purpose, "to": row.recipient, "attempts": row.attempts},
    )
    session.commit()


def _failed(
    *, session: Session, mail_id: int, error: str, now: datetime, permanent: bool = False
) -> None:
    row = session.get(OutgoingMail, mail_id)
    assert row is not None
    row.attempts += 1
    row.claimed_until = None
    row.last_error = error[:300]
    # A refusal for good (unknown mailbox, say) is not tried again for a day.
    given_up = permanent or row.attempts > len(WAITS)
    if given_up:
        row.given_up_at, row.body = now, ""
    else:
        row.next_attempt_at = now + WAITS[row.attempts - 1]
    session.add(row)
    audit.record(
        session=session,
        action="mail.given_up" if given_up else "mail.failed",
        organisation_id=row.organisation_id,
        subject_type="mail",
        subject_id=mail_id,
        details={
            "purpose": row.purpose,
            "to": row.recipient,
            "attempts": row.attempts,
            "error": row.last_error,
        },
    )
    session.commit()


def retry_due(*, session: Session, now: datetime) -> int:
    """Send a job for every mail due again (a retry, or one whose job was lost); tidy old rows.

    Part of the minute's maintenance; does not commit (the jobs leave when the caller does).
    """
    ids = [int(i) for i in waiting(session, SWEEP_LIMIT)]
    for mail_id in ids:
        _enqueue(session=session, mail_id=mail_id)
    session.exec(
        delete(OutgoingMail).where(
            or_(col(OutgoingMail.sent_at) < now - KEEP, col(OutgoingMail.given_up_at) < now - KEEP)
        )
    )
    return len(ids)


def recently_queued(
    *,
    session: Session,
    organisation_id: int,
    purpose: str,
    recipients: Sequence[str],
    since: datetime,
) -> set[str]:
    """The addresses that got a mail for this purpose from the organisation since then."""
    if not recipients:
        return set()
    return set(
        session.exec(
            select(OutgoingMail.recipient).where(
                OutgoingMail.organisation_id == organisation_id,
                OutgoingMail.purpose == purpose,
                col(OutgoingMail.recipient).in_(list(recipients)),
                col(OutgoingMail.created_at) >= since,
            )
        )
    )


@dataclass(frozen=True, slots=True)
class MailStatus:
    """One mail as staff see it: to whom, for what, and whether it arrived at the mail server."""

    recipient: str
    purpose: str
    created_at: datetime
    # "queued" (not tried yet), "sent", "retrying" (failed, tried again later), "given_up"
    state: str
    error: str


def _state(row: OutgoingMail) -> str:
    if row.sent_at is not None:
        return "sent"
    if row.given_up_at is not None:
        return "given_up"
    return "retrying" if row.attempts else "queued"


def recent(
    *,
    session: Session,
    organisation_id: int,
    recipients: Sequence[str],
    since: datetime,
    limit: int = 50,
) -> list[MailStatus]:
    """The organisation's mails to these addresses since then, newest first."""
    if not recipients:
        return []
    rows = session.exec(
        select(OutgoingMail)
        .where(
            OutgoingMail.organisation_id == organisation_id,
            col(OutgoingMail.recipient).in_(list(recipients)),
            col(OutgoingMail.created_at) >= since,
        )
        .order_by(col(OutgoingMail.created_at).desc(), col(OutgoingMail.id).desc())
        .limit(limit)
    ).all()
    return [
        MailStatus(
            recipient=r.recipient,
            purpose=r.purpose,
            created_at=r.created_at,
            state=_state(r),
            error=r.last_error,
        )
        for r in rows
    ]
