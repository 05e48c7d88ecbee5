"""Linking an account that is not the organisation's own: the account holder confirms first.

An account belongs to a person, not to a club. When staff (or a CSV import) name an e-mail address
whose account already exists and has no role in their organisation, nothing is linked: the account
holder gets an e-mail at that address and confirms (or declines) there. Until then the club has no
guardian to send links to, print codes for, or count consent from.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.core.config import get_settings
from consentlens.core.i18n import get_translations
from consentlens.core.mail import Mail, MailError, get_mailer
from consentlens.core.templating import render_text
from consentlens.people.models import Child, Guardianship, Organisation, PendingGuardianship
from consentlens.people.service import create_guardianship


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().resolved_secret_key, salt="consentlens.guardian-ask")


def token_for(pending: PendingGuardianship) -> str:
    return _serializer().dumps(pending.id)


def url_for(pending: PendingGuardianship) -> str:
    return f"{get_settings().base_url.rstrip('/')}/guardian-requests/{token_for(pending)}"


def get_by_token(*, session: Session, token: str, now: datetime) -> PendingGuardianship | None:
    """The open request behind a link, else None (unknown, expired or already answered)."""
    try:
        pending_id: Any = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(pending_id, int):
        return None
    pending = session.get(PendingGuardianship, pending_id)
    if pending is None or pending.expires_at <= now:
        return None
    return pending


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
            url=url_for(pending),
            expires=pending.expires_at.date(),
        ),
        reply_to=organisation.privacy_contact_email,
    )
    try:
        get_mailer().send(mail)
    except MailError:
        return False
    return True


def ask_account_holder(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    user: User,
    relation: str,
    now: datetime,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> PendingGuardianship:
    """Record the organisation's request and e-mail the account holder (again, if asked again)."""
    assert child.id is not None and user.id is not None and organisation.id is not None
    pending = session.exec(
        select(PendingGuardianship).where(
            PendingGuardianship.child_id == child.id, PendingGuardianship.guardian_id == user.id
        )
    ).first()
    if pending is None:
        pending = PendingGuardianship(
            organisation_id=organisation.id,
            child_id=child.id,
            guardian_id=user.id,
            relation=relation,
            requested_by_id=actor.id if actor else None,
            created_at=now,
            expires_at=now,
        )
    pending.relation = relation
    pending.expires_at = now + timedelta(days=get_settings().link_days)
    session.add(pending)
    session.flush()
    sent = _send(session, pending, user, organisation)
    audit.record(
        session=session,
        action="people.guardian_confirmation_requested",
        organisation_id=organisation.id,
        actor_id=actor.id if actor else None,
        subject_type="child",
        subject_id=child.id,
        details={"guardian_id": user.id, "relation": relation, "mailed": sent},
        origin=origin,
    )
    return pending


def list_pending(*, session: Session, child: Child, now: datetime) -> list[tuple[User, datetime]]:
    """Who was asked to confirm for this child, and until when the request stands."""
    rows = session.exec(
        select(User, PendingGuardianship.expires_at)
        .join(PendingGuardianship, col(PendingGuardianship.guardian_id) == User.id)
        .where(PendingGuardianship.child_id == child.id, PendingGuardianship.expires_at > now)
        .order_by(col(PendingGuardianship.created_at))
    ).all()
    return [(user, expires) for user, expires in rows]


def answer(
    *,
    session: Session,
    pending: PendingGuardianship,
    confirmed: bool,
    origin: audit.Origin | None = None,
) -> Guardianship | None:
    """The account holder's answer: confirmed, the link is made; either way the request ends."""
    organisation = session.get(Organisation, pending.organisation_id)
    child = session.get(Child, pending.child_id)
    user = session.get(User, pending.guardian_id)
    assert organisation is not None and child is not None and user is not None
    session.delete(pending)
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
