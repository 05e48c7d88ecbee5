"""Invitations, reminders, renewal requests and receipts: personal links sent by e-mail."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.auth import links
from consentlens.auth.models import User
from consentlens.consent.flow import Change, current_answers
from consentlens.consent.models import ConsentUse
from consentlens.consent.service import season_valid_until
from consentlens.core.config import get_settings
from consentlens.core.i18n import get_translations
from consentlens.core.mail import Mail
from consentlens.core.templating import render_text
from consentlens.organisations.models import Organisation
from consentlens.outbox import service as outbox
from consentlens.people.models import Child, Guardianship

PURPOSES = ("invitation", "reminder", "renewal")


@dataclass
class SendResult:
    """Who was written to: the mails leave once the request commits (`outbox`)."""

    recipients: list[User] = field(default_factory=list)
    # Mailed the same a moment ago (a second click, a second tab): not mailed again.
    held_back: list[User] = field(default_factory=list)


# Two sends of the same kind to the same person this close together are one click too many.
RESEND_AFTER = timedelta(minutes=2)


def guardians_of(
    *, session: Session, children: Sequence[Child]
) -> dict[int, tuple[User, list[Child]]]:
    """Each guardian of these children, with which of them they care for."""
    by_id = {child.id: child for child in children}
    result: dict[int, tuple[User, list[Child]]] = {}
    rows = session.exec(
        select(User, Guardianship.child_id)
        .join(Guardianship, col(Guardianship.guardian_id) == User.id)
        .where(col(Guardianship.child_id).in_(list(by_id)), col(User.is_active).is_(True))
        .order_by(col(User.full_name))
    ).all()
    for user, child_id in rows:
        assert user.id is not None
        result.setdefault(user.id, (user, []))[1].append(by_id[child_id])
    return result


def guardians_without_answer(
    *,
    session: Session,
    organisation: Organisation,
    children: Sequence[Child],
    uses: Sequence[ConsentUse],
    now: datetime,
) -> dict[int, tuple[User, list[Child]]]:
    """Guardians who have no answer in force for at least one use of one of these children."""
    waiting: dict[int, tuple[User, list[Child]]] = {}
    for guardian_id, (guardian, kids) in guardians_of(session=session, children=children).items():
        answers = current_answers(
            session=session,
            child_ids=[kid.id for kid in kids if kid.id is not None],
            now=now,
            guardian_id=guardian_id,
            min_valid_until=season_valid_until(organisation),
        )
        missing = [kid for kid in kids if any((kid.id, use.id) not in answers for use in uses)]
        if missing:
            waiting[guardian_id] = (guardian, missing)
    return waiting


def _locale(user: User, organisation: Organisation) -> str:
    return user.locale or organisation.default_locale


def send_links(
    *,
    session: Session,
    organisation: Organisation,
    recipients: dict[int, tuple[User, list[Child]]],
    purpose: str,
    actor: User | None,
    now: datetime,
    origin: audit.Origin,
    extra: dict[str, object] | None = None,
) -> SendResult:
    """Give each guardian a fresh personal link by e-mail, in their language; audit each.

    The mails are queued: they leave once the caller's transaction commits, with the links.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    result = SendResult()
    assert organisation.id is not None
    # One send at a time per organisation (PostgreSQL; SQLite's writer lock does the same), so
    # that two confirmations at once see each other's mails below.
    session.exec(
        select(Organisation.id).where(Organisation.id == organisation.id).with_for_update()
    ).first()
    just_mailed = outbox.recently_queued(
        session=session,
        organisation_id=organisation.id,
        purpose=f"consent.{purpose}",
        recipients=[guardian.email for guardian, _ in recipients.values()],
        since=now - RESEND_AFTER,
    )
    for guardian, kids in recipients.values():
        if guardian.email in just_mailed:
            result.held_back.append(guardian)
            continue
        link = links.create_link(
            session=session,
            organisation=organisation,
            now=now,
            guardian=guardian,
            created_by=actor,
            purpose=purpose,
        )
        locale = _locale(guardian, organisation)
        _ = get_translations(locale).gettext
        subjects = {
            "invitation": _("%(club)s asks for your consent for photos"),
            "reminder": _("Reminder: %(club)s is waiting for your answer about photos"),
            "renewal": _("New season at %(club)s: please renew your consent for photos"),
        }
        mail = Mail(
            to=guardian.email,
            subject=subjects[purpose] % {"club": organisation.name},
            text=render_text(
                f"mail/{purpose}.txt",
                locale=locale,
                organisation=organisation,
                guardian=guardian,
                children=kids,
                url=links.url_for(link),
                code=links.format_code(link.short_code),
                expires=link.expires_at.date(),
                code_page=f"{get_settings().base_url.rstrip('/')}/code",
                **(extra or {}),
            ),
            reply_to=organisation.privacy_contact_email,
            sender_name=organisation.name,
        )
        queued = outbox.queue_mail(
            session=session,
            mail=mail,
            purpose=f"consent.{purpose}",
            organisation_id=organisation.id,
        )
        result.recipients.append(guardian)
        details = {"link_id": link.id, "children": [kid.id for kid in kids], "mail_id": queued.id}
        audit.record(
            session=session,
            action=f"consent.{purpose}_queued",
            organisation_id=organisation.id,
            actor_id=actor.id if actor else None,
            subject_type="user",
            subject_id=guardian.id,
            details=details,
            origin=origin,
        )
    return result


def send_receipt(
    *,
    session: Session,
    organisation: Organisation,
    guardian: User,
    changes: Sequence[Change],
    now: datetime,
    origin: audit.Origin,
) -> None:
    """E-mail the guardian what they just chose, with a link to come back (queued, as above)."""
    locale = _locale(guardian, organisation)
    link = links.create_link(
        session=session,
        organisation=organisation,
        now=now,
        guardian=guardian,
        purpose="receipt",
    )
    grouped: dict[int, list[Change]] = defaultdict(list)
    for change in changes:
        assert change.child.id is not None
        grouped[change.child.id].append(change)
    _ = get_translations(locale).gettext
    mail = Mail(
        to=guardian.email,
        subject=_("Your choices for photos at %(club)s") % {"club": organisation.name},
        text=render_text(
            "mail/receipt.txt",
            locale=locale,
            organisation=organisation,
            guardian=guardian,
            grouped=[(items[0].child, items) for items in grouped.values()],
            url=links.url_for(link),
        ),
        reply_to=organisation.privacy_contact_email,
        sender_name=organisation.name,
    )
    queued = outbox.queue_mail(
        session=session, mail=mail, purpose="consent.receipt", organisation_id=organisation.id
    )
    audit.record(
        session=session,
        action="consent.receipt_queued",
        organisation_id=organisation.id,
        actor_id=guardian.id,
        subject_type="user",
        subject_id=guardian.id,
        details={"decisions": len(changes), "mail_id": queued.id},
        origin=origin,
    )
