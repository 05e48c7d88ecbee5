"""E-mail on the distributed engine: a real `consentlens worker` on real PostgreSQL delivers
queued mail to a real SMTP server, including mail whose job was lost after the commit."""

from __future__ import annotations

from sqlmodel import Session, select

from consentlens import wiring
from consentlens.core.config import get_settings
from consentlens.core.mail import Mail
from consentlens.jobs import queue
from consentlens.outbox import service as outbox
from consentlens.outbox.models import OutgoingMail
from tests import factories
from tests.jobs.test_distributed import installation, jobs  # noqa: F401 - the fixture
from tests.jobs.test_worker import wait_for


def test_a_worker_delivers_queued_mail_and_the_sweep_sends_a_lost_job(installation, inbox):  # noqa: F811
    engine, url = installation["engine"], installation["url"]
    with Session(engine) as session:
        org = factories.organisation(session, name="KSV Voorbeeld")
        session.commit()
        outbox.queue_mail(
            session=session,
            mail=Mail(to="sent@example.test", subject="a", text="one", sender_name=org.name),
            purpose="consent.invitation",
            organisation_id=org.id,
        )
        session.commit()

        def lost(task: str, argument: str) -> None:
            raise ConnectionError("the process died before it could send the job")

        queue.install_sender(lost, distributed=wiring.jobs_are_distributed)
        try:
            outbox.queue_mail(
                session=session,
                mail=Mail(to="lost@example.test", subject="b", text="two"),
                purpose="consent.invitation",
                organisation_id=org.id,
            )
            session.commit()
        finally:
            queue.install_sender(wiring.send_job, distributed=wiring.jobs_are_distributed)
    # One job waits; the other mail has none, and nothing was delivered by this process.
    assert len(jobs(url, "todo", task=outbox.MAIL_TASK)) == 1
    assert inbox.messages == []

    settings = get_settings()
    installation["start_worker"](
        CONSENTLENS_SMTP_HOST=settings.smtp_host,
        CONSENTLENS_SMTP_PORT=str(settings.smtp_port),
        CONSENTLENS_MAIL_FROM=settings.mail_from,
    )
    wait_for(
        lambda: len(inbox.messages) == 2,
        timeout=90,
        what="the worker to deliver both mails (one through the sweep)",
    )
    assert sorted(m["To"] for m in inbox.messages) == ["lost@example.test", "sent@example.test"]
    [club_mail] = [m for m in inbox.messages if m["To"] == "sent@example.test"]
    assert club_mail["From"].startswith("KSV Voorbeeld <")

    def recorded() -> bool:
        # The mail server has them; the worker records so a moment later.
        with Session(engine) as session:
            rows = session.exec(select(OutgoingMail)).all()
            return len(rows) == 2 and all(r.sent_at is not None and r.body == "" for r in rows)

    wait_for(recorded, timeout=30, what="the worker to record both deliveries")
