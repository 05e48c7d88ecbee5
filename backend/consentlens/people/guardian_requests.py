"""Linking an account that is not the organisation's own: the account holder confirms first.

An account belongs to a person, not to a club. When staff (or a CSV import) name an e-mail address
whose account already exists and has no role in their organisation, nothing is linked: the account
holder gets an e-mail at that address and confirms (or declines) there. Until then the club has no
guardian to send links to, print codes for, or count consent from.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, col, or_, select

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.core.config import get_settings
from consentlens.core.i18n import get_translations
from consentlens.core.mail import Mail
from consentlens.core.tables import utcnow
from consentlens.core.templating import render_text
from consentlens.organisations.models import Organisation
from consentlens.outbox import service as outbox
from consentlens.people.guardianships import create_guardianship, is_own_account
from consentlens.people.models import Child, Guardianship, PendingGuardianship

MAIL_COOLDOWN_HOURS = 24
DECLINED_DAYS = 90


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().resolved_secret_key, salt="consentlens.guardian-ask")


def _address_key(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def token_for(*, pending: PendingGuardianship, user: User) -> str:
    """The link's token: the request, its nonce, and the address it was mailed to."""
    return _serializer().dumps([pending.id, pending.nonce, _address_key(user.email)])


def url_for(*, pending: PendingGuardianship, user: User) -> str:
    """The link in the e-mail that asks the account holder."""
    base = get_settings().base_url.rstrip("/")
    return f"{base}/guardian-requests/{token_for(pending=pending, user=user)}"


def get_by_token(*, session: Session, token: str, now: datetime) -> PendingGuardianship | None:
    """The open request behind a link, else None (unknown, expired or already answered)."""
    try:
        payload: Any = _serializer().loads(token)
    except BadSignature:
        return None
    if not (isinstance(payload, list) and len(payload) == 3 and isinstance(payload[0], int)):
        return None
    pending_id, nonce, address = payload
    pending = session.get(PendingGuardianship, pending_id)
    if (
        pending is None
        or pending.expires_at <= now
        or pending.declined_at is not None
        or pending.nonce != nonce
    ):
        return None
    user = session.get(User, pending.guardian_id)
    # The answer belongs to whoever holds the address the request was sent to, still.
    if user is None or _address_key(user.email) != address:
        return None
    return pending


@dataclass(frozen=True)
class RequestParties:
    """Who a request is between: the asking organisation, the child, and the account asked."""

    organisation: Organisation
    child: Child | None
    account: User


def parties_of(*, session: Session, pending: PendingGuardianship) -> RequestParties:
    """The organisation, child and account a request names."""
    organisation = session.get(Organisation, pending.organisation_id)
    account = session.get(User, pending.guardian_id)
    assert organisation is not None and account is not None
    return RequestParties(
        organisation=organisation, child=session.get(Child, pending.child_id), account=account
    )


def _send(
    session: Session, pending: PendingGuardianship, user: User, organisation: Organisation
) -> bool:
    child = session.get(Child, pending.child_id)
    assert child is not None
    locale = user.locale or organisation.default_locale
    _ = get_translations(locale).gettext
    mail = Mail(
        to=user.email,
        subject=_("%(club)s asks whether you are a guardian of %(child)s")
        % {"club": organisation.name, "child": child.first_name},
        text=render_text(
            "mail/guardian_request.txt",
            locale=locale,
            user=user,
            organisation=organisation,
            child=child,
            url=url_for(pending=pending, user=user),
            expires=pending.expires_at.date(),
        ),
        reply_to=organisation.privacy_contact_email,
        sender_name=organisation.name,
    )
    outbox.queue_mail(
        session=session,
        mail=mail,
        purpose="people.guardian_request",
        organisation_id=organisation.id,
    )
    return True


def _pending_for(
    session: Session, org: Organisation, child: Child, user: User, by: User | None, now: datetime
) -> PendingGuardianship:
    """The organisation's request about this child to this account, new if there is none."""
    assert child.id is not None and user.id is not None and org.id is not None
    pending = session.exec(
        select(PendingGuardianship).where(
            PendingGuardianship.child_id == child.id, PendingGuardianship.guardian_id == user.id
        )
    ).first()
    if pending is not None:
        return pending
    # Its relation and expiry are set by the caller, as for a request asked again.
    return PendingGuardianship(
        organisation_id=org.id,
        child_id=child.id,
        guardian_id=user.id,
        requested_by_id=by.id if by else None,
        nonce=secrets.token_urlsafe(16),
        created_at=now,
        expires_at=now,
    )


def link_or_ask(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    user: User,
    relation: str,
    now: datetime,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Guardianship | PendingGuardianship:
    """Link the organisation's own account at once; ask the holder of anyone else's.

    Asking records the organisation's request and e-mails the account holder. Asking again about
    the same child re-mails at most once a day, and never after the holder declined (for
    `DECLINED_DAYS`): staff or a re-imported file cannot flood someone's inbox.
    """
    if is_own_account(session=session, organisation=organisation, user=user):
        return create_guardianship(
            session=session,
            organisation=organisation,
            child=child,
            user=user,
            relation=relation,
            actor=actor,
            origin=origin,
        )
    pending = _pending_for(session, organisation, child, user, actor, now)
    declined = pending.declined_at is not None and pending.declined_at > now - timedelta(
        days=DECLINED_DAYS
    )
    recent = pending.mailed_at is not None and pending.mailed_at > now - timedelta(
        hours=MAIL_COOLDOWN_HOURS
    )
    if not declined:
        pending.relation = relation
        pending.declined_at = None
        pending.expires_at = now + timedelta(days=get_settings().link_days)
        if not recent:
            # A new nonce per mailing: only the newest e-mail's link answers.
            pending.nonce = secrets.token_urlsafe(16)
            pending.mailed_at = now
    session.add(pending)
    session.flush()
    sent = not declined and not recent and _send(session, pending, user, organisation)
    audit.record(
        session=session,
        action="people.guardian_confirmation_requested",
        organisation_id=organisation.id,
        actor_id=actor.id if actor else None,
        subject_type="child",
        subject_id=child.id,
        details={
            "guardian_id": user.id,
            "relation": relation,
            "mailed": sent,
            "held_back": "declined" if declined else "mailed_today" if recent else "",
        },
        origin=origin,
    )
    return pending


def is_asked_elsewhere(*, session: Session, organisation: Organisation, user: User) -> bool:
    """Whether another organisation has asked this account holder (answered or not)."""
    return (
        session.exec(
            select(PendingGuardianship.id).where(
                PendingGuardianship.guardian_id == user.id,
                PendingGuardianship.organisation_id != organisation.id,
            )
        ).first()
        is not None
    )


def list_pending(
    *, session: Session, child: Child, now: datetime
) -> list[tuple[str, PendingGuardianship]]:
    """Who was asked about this child (the address only: the holder's name is theirs), with the
    request: until when it stands, or when it was declined."""
    rows = session.exec(
        select(User.email, PendingGuardianship)
        .join(PendingGuardianship, col(PendingGuardianship.guardian_id) == User.id)
        .where(
            PendingGuardianship.child_id == child.id,
            or_(
                col(PendingGuardianship.expires_at) > now,
                col(PendingGuardianship.declined_at).is_not(None),
            ),
        )
        .order_by(col(PendingGuardianship.created_at))
    ).all()
    return [(email, pending) for email, pending in rows]


def answer(
    *,
    session: Session,
    pending: PendingGuardianship,
    confirmed: bool,
    origin: audit.Origin | None = None,
) -> Guardianship | None:
    """The account holder's answer: confirmed, the link is made and the request ends; declined,
    the request is kept as declined (so the club cannot simply ask again)."""
    organisation = session.get(Organisation, pending.organisation_id)
    child = session.get(Child, pending.child_id)
    user = session.get(User, pending.guardian_id)
    assert organisation is not None and child is not None and user is not None
    if confirmed:
        session.delete(pending)
    else:
        pending.declined_at = utcnow()
        pending.nonce = secrets.token_urlsafe(16)
        session.add(pending)
    session.flush()
    audit.record(
        session=session,
        action="people.guardian_confirmed" if confirmed else "people.guardian_declined",
        organisation_id=organisation.id,
        actor_id=user.id,
        subject_type="child",
        subject_id=child.id,
        details={"guardian_id": user.id, "relation": pending.relation},
        origin=origin,
    )
    if not confirmed or child.archived_at is not None:
        return None
    return create_guardianship(
        session=session,
        organisation=organisation,
        child=child,
        user=user,
        relation=pending.relation,
        actor=user,
        origin=origin,
    )
