"""The outbox on real databases and a real SMTP server: mail leaves with the commit, is retried,
given up on, never sent twice, and says who sent it."""

from __future__ import annotations

import socket
from datetime import timedelta

from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role
from consentlens.core.config import get_settings
from consentlens.core.mail import Mail
from consentlens.core.tables import utcnow
from consentlens.outbox import service as outbox
from consentlens.outbox.models import OutgoingMail
from tests import factories


def _mail(to: str, **extra: str) -> Mail:
    return Mail(to=to, subject="Foto's", text="https://club.test/c/secret-link", **extra)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nobody listens once the probe is closed


def _actions(db, mail_id: int) -> list[str]:
    events = db.exec(
        select(AuditEvent).where(AuditEvent.subject_type == "mail").order_by(AuditEvent.id)
    ).all()
    return [e.action for e in events if e.subject_id == str(mail_id)]


def test_nothing_leaves_before_the_commit_and_nothing_if_it_rolls_back(db, inbox):
    org = factories.organisation(db, name="Sportclub Zonnedael")
    db.commit()
    outbox.queue_mail(session=db, mail=_mail("gone@example.test"), purpose="consent.invitation")
    assert inbox.messages == []
    db.rollback()
    assert inbox.messages == []
    assert db.exec(select(OutgoingMail)).all() == []

    row = outbox.queue_mail(
        session=db,
        mail=_mail("ann@example.test", sender_name=org.name, reply_to="privacy@club.test"),
        purpose="consent.invitation",
        organisation_id=org.id,
    )
    assert inbox.messages == []
    db.commit()
    [message] = inbox.messages
    assert message["To"] == "ann@example.test"
    # The club's name beside the configured address; replies go to the club.
    assert message["From"] == "Sportclub Zonnedael <club@example.test>"
    assert message["Reply-To"] == "privacy@club.test"
    assert "secret-link" in inbox.body(message)
    db.refresh(row)
    assert row.sent_at is not None and row.attempts == 1
    assert row.body == ""  # the link is not kept once delivered
    assert _actions(db, row.id) == ["mail.sent"]


def test_a_refused_delivery_is_retried_later_then_given_up(db, inbox, monkeypatch):
    org = factories.organisation(db)
    settings = get_settings()
    working_port = settings.smtp_port
    monkeypatch.setattr(settings, "smtp_port", _closed_port())
    monkeypatch.setattr(settings, "smtp_timeout_seconds", 2)
    row = outbox.queue_mail(
        session=db,
        mail=_mail("bart@example.test"),
        purpose="consent.reminder",
        organisation_id=org.id,
    )
    db.commit()
    db.refresh(row)
    assert row.sent_at is None and row.attempts == 1 and row.last_error
    assert row.body  # kept for the next attempt
    first_wait = row.next_attempt_at - utcnow()
    assert timedelta(seconds=50) < first_wait <= outbox.WAITS[0]
    # Not due yet: the minute's maintenance sends nothing.
    assert outbox.retry_due(session=db, now=utcnow()) == 0
    [status] = outbox.recent(
        session=db, organisation_id=org.id, recipients=["bart@example.test"], since=row.created_at
    )
    assert status.state == "retrying"

    # The mail server is back: the next round after the wait delivers it.
    monkeypatch.setattr(settings, "smtp_port", working_port)
    assert outbox.retry_due(session=db, now=row.next_attempt_at) == 0  # `waiting` uses now()
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.commit()
    assert outbox.retry_due(session=db, now=utcnow()) == 1
    db.commit()
    assert [m["To"] for m in inbox.messages] == ["bart@example.test"]
    db.refresh(row)
    assert row.sent_at is not None and row.attempts == 2
    assert _actions(db, row.id) == ["mail.failed", "mail.sent"]

    # A server that never answers: after the last wait the mail is given up on, text emptied.
    monkeypatch.setattr(settings, "smtp_port", _closed_port())
    doomed = outbox.queue_mail(
        session=db,
        mail=_mail("cas@example.test"),
        purpose="consent.reminder",
        organisation_id=org.id,
    )
    db.commit()
    for _ in outbox.WAITS:
        db.refresh(doomed)
        doomed.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.add(doomed)
        db.commit()
        assert outbox.deliver(session=db, mail_id=doomed.id, now=utcnow()) is False
    db.refresh(doomed)
    assert doomed.given_up_at is not None and doomed.body == ""
    assert doomed.attempts == len(outbox.WAITS) + 1
    assert _actions(db, doomed.id)[-1] == "mail.given_up"
    assert outbox.deliver(session=db, mail_id=doomed.id, now=utcnow()) is None
    [status] = outbox.recent(
        session=db, organisation_id=org.id, recipients=["cas@example.test"], since=doomed.created_at
    )
    assert status.state == "given_up"


def test_a_mail_is_claimed_by_one_sender_only(db, inbox, monkeypatch):
    org = factories.organisation(db)
    settings = get_settings()
    working_port = settings.smtp_port
    # Queued while the server is down, so it waits; then due again.
    monkeypatch.setattr(settings, "smtp_port", _closed_port())
    row = outbox.queue_mail(
        session=db, mail=_mail("dana@example.test"), purpose="x", organisation_id=org.id
    )
    db.commit()
    monkeypatch.setattr(settings, "smtp_port", working_port)
    db.refresh(row)
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.commit()
    now = utcnow()
    assert outbox.claim(db, str(row.id), now) is True
    # A second worker (or the sweep's job) finds it taken, and then sent.
    assert outbox.claim(db, str(row.id), now) is False
    assert outbox.deliver(session=db, mail_id=row.id, now=now) is None
    assert inbox.messages == []
    # The claimant died: its claim runs out and the mail is due again.
    later = now + outbox.CLAIM + timedelta(seconds=1)
    assert outbox.deliver(session=db, mail_id=row.id, now=later) is True
    assert outbox.deliver(session=db, mail_id=row.id, now=later) is None
    assert [m["To"] for m in inbox.messages] == ["dana@example.test"]


def test_delivered_rows_are_deleted_after_a_month(db, inbox):
    org = factories.organisation(db)
    row = outbox.queue_mail(
        session=db, mail=_mail("eva@example.test"), purpose="x", organisation_id=org.id
    )
    db.commit()
    outbox.retry_due(session=db, now=utcnow() + outbox.KEEP - timedelta(days=1))
    db.commit()
    assert db.get(OutgoingMail, row.id) is not None
    outbox.retry_due(session=db, now=utcnow() + outbox.KEEP + timedelta(days=1))
    db.commit()
    assert db.get(OutgoingMail, row.id) is None
    # The audit trail keeps the outcome.
    assert _actions(db, row.id) == ["mail.sent"]


def test_a_link_sent_from_the_page_leaves_after_the_commit_and_is_listed(client, db, inbox):
    from consentlens.auth.models import ConsentLink
    from tests.conftest import csrf_from, login

    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    mum = factories.user(db, org, Role.GUARDIAN, password=None)
    kid = factories.child(db, org, guardians=(mum,))
    db.commit()
    login(client, staff.email, factories.PASSWORD)
    page = client.get(f"/staff/children/{kid.id}")
    links_before = len(db.exec(select(ConsentLink)).all())
    # An id no guardian of this child has: refused, nothing mailed.
    refused = client.post(
        f"/staff/children/{kid.id}/invite",
        data={"csrf_token": csrf_from(page.text), "guardian_id": 999999},
    )
    assert refused.status_code == 404 and inbox.messages == []
    sent = client.post(
        f"/staff/children/{kid.id}/invite",
        data={"csrf_token": csrf_from(page.text), "guardian_id": mum.id},
    )
    assert sent.status_code == 303 and [m["To"] for m in inbox.messages] == [mum.email]
    assert len(db.exec(select(ConsentLink)).all()) == links_before + 1
    shown = client.get(sent.headers["location"])
    assert mum.email in shown.text


def test_confirming_twice_mails_once(client, db, inbox):
    """A second tab or a second click on the confirmation: the same mail is not sent again."""
    from consentlens.auth.models import ConsentLink
    from consentlens.people.models import ChildGroup
    from tests.conftest import csrf_from, login

    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    team = factories.group(db, org)
    mum = factories.user(db, org, Role.GUARDIAN, password=None)
    kid = factories.child(db, org, guardians=(mum,))
    db.add(ChildGroup(child_id=kid.id, group_id=team.id))
    db.commit()
    login(client, staff.email, factories.PASSWORD)
    page = client.get(f"/staff/groups/{team.id}/consents")
    form = {"csrf_token": csrf_from(page.text), "who": "all", "confirmed": "yes"}
    first = client.post(f"/staff/groups/{team.id}/invite", data=form)
    second = client.post(f"/staff/groups/{team.id}/invite", data=form)
    assert first.headers["location"].endswith("sent=1&skipped=0")
    assert second.headers["location"].endswith("sent=0&skipped=1")
    assert [m["To"] for m in inbox.messages] == [mum.email]
    assert len(db.exec(select(ConsentLink).where(ConsentLink.guardian_id == mum.id)).all()) == 1
    shown = client.get(second.headers["location"])
    assert "not mailed again" in shown.text or "niet opnieuw" in shown.text


def test_a_mailbox_refused_for_good_is_given_up_at_once(db, inbox, monkeypatch):
    """A real SMTP server answering 550 for the recipient: no day of pointless retries."""

    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such mailbox"

    monkeypatch.setattr(inbox, "handle_RCPT", refuse, raising=False)
    org = factories.organisation(db)
    row = outbox.queue_mail(
        session=db, mail=_mail("ghost@example.test"), purpose="x", organisation_id=org.id
    )
    db.commit()
    db.refresh(row)
    assert row.given_up_at is not None and row.attempts == 1 and "550" in row.last_error
    assert _actions(db, row.id) == ["mail.given_up"]
