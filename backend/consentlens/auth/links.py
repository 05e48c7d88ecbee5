"""Personal consent links: for a guardian, or for a child old enough to answer.

A link's URL carries the signed id of a `ConsentLink` row; the row says whose link it is, until
when it works and whether it was revoked. A short code (printed on forms) opens the same link.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, func, select

from consentlens.audit import service as audit
from consentlens.audit.models import AuditEvent
from consentlens.auth import service, sessions
from consentlens.auth.models import ConsentLink, LinkKind, Role, User
from consentlens.core.config import get_settings
from consentlens.organisations.models import Organisation

# No 0/O, 1/I/L: the code is typed from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


class LinkProblem(enum.Enum):
    INVALID = "invalid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class LinkCheck:
    link: ConsentLink | None
    problem: LinkProblem | None = None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().resolved_secret_key, salt="consentlens.consent-link")


def token_for(link: ConsentLink) -> str:
    """The signed token in the link's URL (the same every time for the same link)."""
    return _serializer().dumps(link.id)


def url_for(link: ConsentLink) -> str:
    return f"{get_settings().base_url.rstrip('/')}/c/{token_for(link)}"


def format_code(code: str) -> str:
    """Codes are shown in two groups of four, like ABCD-EF23."""
    return f"{code[:4]}-{code[4:]}"


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        exists = session.exec(select(ConsentLink.id).where(ConsentLink.short_code == code)).first()
        if exists is None:
            return code


def create_link(
    *,
    session: Session,
    organisation: Organisation,
    now: datetime,
    guardian: User | None = None,
    child_id: int | None = None,
    created_by: User | None = None,
    purpose: str = "invitation",
) -> ConsentLink:
    """A new personal link for a guardian or for a child (by id), valid for the configured days."""
    if (guardian is None) == (child_id is None):
        raise ValueError("a link is for one guardian or for one child")
    assert organisation.id is not None
    link = ConsentLink(
        organisation_id=organisation.id,
        kind=(LinkKind.GUARDIAN if guardian else LinkKind.CHILD).value,
        guardian_id=guardian.id if guardian else None,
        child_id=child_id,
        short_code=_new_code(session),
        purpose=purpose,
        created_by_id=created_by.id if created_by else None,
        created_at=now,
        expires_at=now + timedelta(days=get_settings().link_days),
    )
    session.add(link)
    session.flush()
    return link


def check_link(*, link: ConsentLink | None, now: datetime) -> LinkCheck:
    """Whether a link (if any) may be used now."""
    if link is None:
        return LinkCheck(None, LinkProblem.INVALID)
    if link.revoked_at is not None:
        return LinkCheck(link, LinkProblem.REVOKED)
    if link.expires_at <= now:
        return LinkCheck(link, LinkProblem.EXPIRED)
    return LinkCheck(link)


def get_link(*, session: Session, organisation: Organisation, link_id: int) -> ConsentLink | None:
    """The organisation's link with this id, else None (also for another organisation's)."""
    link = session.get(ConsentLink, link_id)
    return link if link is not None and link.organisation_id == organisation.id else None


def owner_of(*, session: Session, link: ConsentLink) -> User | None:
    """The guardian account a link belongs to; None for a child's own link."""
    return session.get(User, link.guardian_id) if link.guardian_id is not None else None


def opens_session_for(*, session: Session, link: ConsentLink, user: User | None) -> bool:
    """Whether a guardian's link may stand in for this account: an active guardian of the link's
    organisation who holds no staff or admin role anywhere (those sign in with their password).
    A child's own link opens for the child (no account); `check_link` judges expiry."""
    if link.kind == LinkKind.CHILD.value:
        return user is None
    if user is None or user.id is None or user.id != link.guardian_id or not user.is_active:
        return False
    if service.has_staff_role(session=session, user_id=user.id):
        return False
    roles = service.roles_in(session=session, user_id=user.id, organisation_id=link.organisation_id)
    return Role.GUARDIAN in roles


def check_token(*, session: Session, token: str, now: datetime) -> LinkCheck:
    try:
        link_id = _serializer().loads(token)
    except BadSignature:
        return LinkCheck(None, LinkProblem.INVALID)
    if not isinstance(link_id, int):
        return LinkCheck(None, LinkProblem.INVALID)
    return check_link(link=session.get(ConsentLink, link_id), now=now)


def check_code(*, session: Session, code: str, now: datetime) -> LinkCheck:
    # People type codes from paper: ignore case, spaces and the dash.
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())[:12]
    link = session.exec(select(ConsentLink).where(ConsentLink.short_code == cleaned)).first()
    return check_link(link=link, now=now)


def count_code_failures(*, session: Session, ip: str, since: datetime) -> int:
    """How many wrong codes were typed from this address since then."""
    return session.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "link.code_failed", AuditEvent.ip == ip, AuditEvent.at > since)
    ).one()


def record_use(*, session: Session, link: ConsentLink, now: datetime, origin: audit.Origin) -> None:
    link.use_count += 1
    link.last_used_at = now
    session.add(link)
    audit.record(
        session=session,
        action="link.used",
        organisation_id=link.organisation_id,
        actor_id=link.guardian_id,
        subject_type="consent_link",
        subject_id=link.id,
        details={"kind": link.kind, "child_id": link.child_id, "purpose": link.purpose},
        origin=origin,
    )


def revoke(
    *, session: Session, link: ConsentLink, actor: User, now: datetime, origin: audit.Origin
) -> None:
    if link.revoked_at is None:
        link.revoked_at = now
        session.add(link)
        assert link.id is not None
        sessions.end_all_for_links(session=session, link_ids=[link.id], now=now)
        audit.record(
            session=session,
            action="link.revoked",
            organisation_id=link.organisation_id,
            actor_id=actor.id,
            subject_type="consent_link",
            subject_id=link.id,
            origin=origin,
        )
