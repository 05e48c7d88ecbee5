"""An organisation's staff accounts, managed by its admins: invite, change role, remove.

An account belongs to a person, not to a club (see `people/guardian_requests.py` and
tests/security/test_takeover.py). Inviting an address that has no account creates one for that
address, with no password: its holder chooses one through the reset link mailed to that address.
Inviting an address whose account exists changes nothing about that account: no password is set,
no session opened, no sign-in link sent. Its holder is mailed an invitation they accept while
signed in as themselves; until then the club has no role on that account.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session, col, delete, select

from consentlens.audit import service as audit
from consentlens.audit.models import AuditEvent
from consentlens.auth import passwords, service
from consentlens.auth.models import Membership, Role, User
from consentlens.core.config import get_settings
from consentlens.core.i18n import N_, get_translations
from consentlens.core.mail import Mail
from consentlens.core.templating import render_text
from consentlens.organisations.models import Organisation
from consentlens.outbox import service as outbox

STAFF_ROLES = (Role.ADMIN, Role.STAFF)
INVITATION_DAYS = 14


class StaffError(ValueError):
    """A staff change that is refused; `message` is a msgid shown to the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StaffMember:
    user: User
    role: Role

    @property
    def has_password(self) -> bool:
        return self.user.password_hash is not None


def list_staff(*, session: Session, organisation: Organisation) -> list[StaffMember]:
    """The organisation's admins and staff, by name; an account with both rows counts as admin."""
    rows = session.exec(
        select(User, Membership.role)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(
            Membership.organisation_id == organisation.id,
            col(Membership.role).in_([r.value for r in STAFF_ROLES]),
        )
    ).all()
    best: dict[int, StaffMember] = {}
    for user, role in rows:
        assert user.id is not None
        if user.id not in best or role == Role.ADMIN.value:
            best[user.id] = StaffMember(user, Role(role))
    return sorted(best.values(), key=lambda m: (m.user.full_name.lower(), m.user.id))


def get_member(*, session: Session, organisation: Organisation, user_id: int) -> StaffMember | None:
    """One admin or staff member of the organisation, else None (not ours, or not staff)."""
    return next(
        (m for m in list_staff(session=session, organisation=organisation) if m.user.id == user_id),
        None,
    )


def parse_role(raw: str) -> Role:
    if raw not in (Role.ADMIN.value, Role.STAFF.value):
        raise StaffError(N_("Choose admin or staff."))
    return Role(raw)


def _lock(session: Session, organisation: Organisation) -> None:
    # Two admins demoting each other at once must not leave the club without one (PostgreSQL;
    # SQLite writes one transaction at a time already).
    session.exec(
        select(Organisation.id).where(Organisation.id == organisation.id).with_for_update()
    ).one()


def _admins_besides(session: Session, organisation: Organisation, user_id: int) -> int:
    return len(
        session.exec(
            select(Membership.id).where(
                Membership.organisation_id == organisation.id,
                Membership.role == Role.ADMIN.value,
                Membership.user_id != user_id,
            )
        ).all()
    )


def _check_change(
    session: Session, organisation: Organisation, member: StaffMember, actor: User
) -> None:
    if member.user.id == actor.id:
        raise StaffError(N_("You cannot change or remove your own account here."))
    assert member.user.id is not None
    _lock(session, organisation)
    if member.role is Role.ADMIN and _admins_besides(session, organisation, member.user.id) == 0:
        raise StaffError(N_("The organisation needs at least one admin."))


def _set_staff_role(
    session: Session, organisation: Organisation, user: User, role: Role | None
) -> None:
    session.exec(
        delete(Membership).where(
            col(Membership.user_id) == user.id,
            col(Membership.organisation_id) == organisation.id,
            col(Membership.role).in_([r.value for r in STAFF_ROLES]),
        )
    )
    session.flush()
    if role is not None:
        service.add_membership(session=session, user=user, organisation=organisation, role=role)


def change_role(
    *,
    session: Session,
    organisation: Organisation,
    member: StaffMember,
    role: Role,
    actor: User,
    origin: audit.Origin,
) -> None:
    """Make a staff member admin or staff (never yourself, never the last admin)."""
    if role is member.role:
        return
    if role is not Role.ADMIN:
        _check_change(session, organisation, member, actor)
    elif member.user.id == actor.id:
        raise StaffError(N_("You cannot change or remove your own account here."))
    _set_staff_role(session, organisation, member.user, role)
    _record(session, organisation, actor, origin, "staff.role_changed", member.user,
            {"from": member.role.value, "to": role.value})  # fmt: skip


def remove(
    *,
    session: Session,
    organisation: Organisation,
    member: StaffMember,
    actor: User,
    origin: audit.Origin,
) -> None:
    """Take the admin or staff role away (a guardian role and the account itself stay)."""
    _check_change(session, organisation, member, actor)
    _set_staff_role(session, organisation, member.user, None)
    _record(session, organisation, actor, origin, "staff.removed", member.user,
            {"role": member.role.value})  # fmt: skip


def _record(
    session: Session,
    organisation: Organisation,
    actor: User | None,
    origin: audit.Origin,
    action: str,
    user: User,
    details: dict[str, Any],
) -> None:
    audit.record(
        session=session,
        action=action,
        organisation_id=organisation.id,
        actor_id=actor.id if actor else None,
        subject_type="user",
        subject_id=user.id,
        details=details,
        origin=origin,
    )


class InviteOutcome(enum.Enum):
    CREATED = "created"  # a new account; a link to choose its password went to the address
    CREATED_UNSENT = "created_unsent"  # the same, but the mail could not go now
    ASKED = "asked"  # an existing account; its holder was mailed an invitation to accept
    ALREADY = "already"  # already staff or admin here


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().resolved_secret_key, salt="consentlens.staff-ask")


def _address_key(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def invitation_token(*, organisation: Organisation, user: User, role: Role) -> str:
    """The invitation link's token: the club, the account, the role and the address it went to."""
    return _serializer().dumps([organisation.id, user.id, role.value, _address_key(user.email)])


@dataclass(frozen=True)
class Invitation:
    organisation: Organisation
    user: User
    role: Role


def read_invitation(
    *, session: Session, token: str, now: datetime | None = None
) -> Invitation | None:
    """The open invitation behind a link, else None (forged, expired, or overtaken since)."""
    try:
        payload, issued = _serializer().loads(
            token, max_age=INVITATION_DAYS * 86400, return_timestamp=True
        )
    except (SignatureExpired, BadSignature):
        return None
    if not (isinstance(payload, list) and len(payload) == 4):
        return None
    org_id, user_id, role, address = payload
    if role not in (Role.ADMIN.value, Role.STAFF.value) or not isinstance(user_id, int):
        return None
    organisation = session.get(Organisation, org_id)
    user = session.get(User, user_id)
    # The invitation belongs to whoever holds the address it was mailed to, still.
    if organisation is None or user is None or _address_key(user.email) != address:
        return None
    issued_at = issued if issued.tzinfo else issued.replace(tzinfo=UTC)
    # An admin who removed the account since (or withdrew the role) has overtaken the link.
    later = session.exec(
        select(AuditEvent.at).where(
            AuditEvent.organisation_id == organisation.id,
            col(AuditEvent.action).in_(["staff.removed", "staff.role_changed"]),
            AuditEvent.subject_type == "user",
            AuditEvent.subject_id == str(user.id),
            AuditEvent.at >= issued_at - timedelta(seconds=1),
        )
    ).first()
    if later is not None:
        return None
    return Invitation(organisation, user, Role(role))


def _invitation_url(token: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}/staff-invitations/{token}"


def invitation_mail(*, organisation: Organisation, user: User, role: Role, inviter: User) -> Mail:
    """The e-mail that asks an existing account's holder to join the club's staff."""
    locale = user.locale or organisation.default_locale
    _ = get_translations(locale).gettext
    return Mail(
        to=user.email,
        subject=_("%(club)s invites you to its ConsentLens team") % {"club": organisation.name},
        text=render_text(
            "mail/staff_invitation.txt",
            locale=locale,
            user=user,
            organisation=organisation,
            inviter=inviter,
            role=role.value,
            url=_invitation_url(invitation_token(organisation=organisation, user=user, role=role)),
            days=INVITATION_DAYS,
        ),
        reply_to=organisation.privacy_contact_email,
        sender_name=organisation.name,
    )


def invite(
    *,
    session: Session,
    organisation: Organisation,
    email: str,
    full_name: str,
    role: Role,
    actor: User,
    now: datetime,
    origin: audit.Origin,
) -> InviteOutcome:
    """Invite someone to the club's staff by e-mail address (see the module's docstring)."""
    try:
        address = service.validate_email(email)
    except service.AccountError:
        raise StaffError(N_("Enter a valid e-mail address.")) from None
    user = service.get_user_by_email(session=session, email=address)
    if user is None:
        user = service.create_user(
            session=session,
            email=address,
            full_name=full_name.strip()[:200] or address,
            locale=organisation.default_locale,
        )
        service.add_membership(session=session, user=user, organisation=organisation, role=role)
        _record(session, organisation, actor, origin, "staff.invited", user,
                {"role": role.value, "new_account": True})  # fmt: skip
        # The holder chooses a password through the link mailed to the address: the usual reset.
        sent = passwords.request_reset(session=session, email=address, now=now, origin=origin)
        return InviteOutcome.CREATED if sent else InviteOutcome.CREATED_UNSENT
    assert user.id is not None and organisation.id is not None
    if service.roles_in(session=session, user_id=user.id, organisation_id=organisation.id) & set(
        STAFF_ROLES
    ):
        return InviteOutcome.ALREADY
    _record(session, organisation, actor, origin, "staff.invitation_sent", user,
            {"role": role.value, "new_account": False})  # fmt: skip
    mail = invitation_mail(organisation=organisation, user=user, role=role, inviter=actor)
    # Leaves with the commit, retried by the outbox: a failed delivery shows there, not here.
    outbox.queue_mail(
        session=session, mail=mail, purpose="auth.staff_invitation", organisation_id=organisation.id
    )
    return InviteOutcome.ASKED


def accept(*, session: Session, invitation: Invitation, user: User, origin: audit.Origin) -> None:
    """The invited account's holder, signed in as themselves, takes the role."""
    if user.id != invitation.user.id:
        raise StaffError(N_("This invitation is for another account."))
    service.add_membership(
        session=session, user=user, organisation=invitation.organisation, role=invitation.role
    )
    _record(session, invitation.organisation, user, origin, "staff.invitation_accepted", user,
            {"role": invitation.role.value})  # fmt: skip
