"""Guardians: their details (one account per e-mail), finding, listing and editing them.

Making and undoing the link to a child is `guardianships.py`; asking the holder of someone
else's account first is `guardian_requests.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, func, or_, select

from consentlens.audit import service as audit
from consentlens.auth import service as accounts
from consentlens.auth.models import Membership, Role, User
from consentlens.core.config import LOCALES
from consentlens.core.i18n import N_
from consentlens.core.tables import utcnow
from consentlens.organisations.models import Organisation
from consentlens.people.changes import record_change
from consentlens.people.children import create_child, org_child_ids
from consentlens.people.errors import PeopleError, Problem
from consentlens.people.guardian_requests import is_asked_elsewhere, link_or_ask
from consentlens.people.models import Child, Group, Guardianship, PendingGuardianship

RELATIONS = ("parent", "guardian", "other")
RELATION_LABELS = {"parent": N_("Parent"), "guardian": N_("Guardian"), "other": N_("Other")}
FULL_NAME_MAX = 200
_PHONE = re.compile(r"\+?[0-9 ()./-]{6,40}")


@dataclass(frozen=True)
class GuardianDetails:
    """A guardian as typed by staff or sent by an integration."""

    full_name: str
    email: str
    phone: str = ""
    locale: str | None = None
    relation: str = "parent"


def _check_contact(full_name: str, email: str, phone: str, locale: str | None) -> list[Problem]:
    problems = []
    if len(full_name.strip()) > FULL_NAME_MAX:
        problems.append(Problem("full_name", N_("That name is too long.")))
    try:
        accounts.validate_email(email)
    except accounts.AccountError:
        problems.append(Problem("email", N_("Enter a valid e-mail address.")))
    phone = phone.strip()
    if phone and (not _PHONE.fullmatch(phone) or sum(ch.isdigit() for ch in phone) < 6):
        problems.append(Problem("phone", N_("Enter a valid phone number.")))
    if locale and locale not in LOCALES:
        problems.append(Problem("locale", N_("Choose a language from the list.")))
    return problems


def check_guardian(*, session: Session, details: GuardianDetails) -> list[Problem]:
    """What is wrong with a guardian to link; a name is needed only for a new account."""
    problems = _check_contact(details.full_name, details.email, details.phone, details.locale)
    if details.relation not in RELATIONS:
        problems.append(Problem("relation", N_("Choose a relation from the list.")))
    if (
        not details.full_name.strip()
        and not any(p.field == "email" for p in problems)
        and accounts.get_user_by_email(session=session, email=details.email) is None
    ):
        problems.append(Problem("full_name", N_("Enter the guardian's name.")))
    return problems


def find_or_create_guardian(*, session: Session, details: GuardianDetails) -> tuple[User, bool]:
    """The account with this e-mail (filling in a missing phone or language), or a new one
    without a password. Returns the user and whether it was created."""
    problems = check_guardian(session=session, details=details)
    if problems:
        raise PeopleError(problems=problems)
    user = accounts.get_user_by_email(session=session, email=details.email)
    if user is None:
        user = accounts.create_user(
            session=session,
            email=details.email,
            full_name=details.full_name,
            locale=details.locale or None,
        )
        user.phone = details.phone.strip() or None
        session.add(user)
        session.flush()
        return user, True
    # Someone else's account: what is there is its holder's to change, not the club's.
    return user, False


def link_guardian(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    details: GuardianDetails,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Guardianship | PendingGuardianship:
    """Link a guardian by e-mail to a child: an existing account is reused, never duplicated.

    An account that is not the organisation's own is not linked: its holder is asked to confirm
    by e-mail, and the pending request is returned instead.
    """
    user, _created = find_or_create_guardian(session=session, details=details)
    return link_or_ask(
        session=session,
        organisation=organisation,
        child=child,
        user=user,
        relation=details.relation,
        now=utcnow(),
        actor=actor,
        origin=origin,
    )


def create_child_with_guardians(
    *,
    session: Session,
    organisation: Organisation,
    first_name: str,
    last_name: str,
    birth_date: date | None,
    external_id: str | None,
    groups: Sequence[Group],
    guardians: Sequence[GuardianDetails],
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Child:
    """A new child with its guardians; every check runs before anything is written."""
    guardian_problems = [
        Problem(f"guardians.{index}.{p.field}", p.message)
        for index, details in enumerate(guardians)
        for p in check_guardian(session=session, details=details)
    ]
    child = create_child(
        session=session,
        organisation=organisation,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        external_id=external_id,
        groups=groups,
        actor=actor,
        origin=origin,
        more_problems=guardian_problems,
    )
    for details in guardians:
        link_guardian(
            session=session,
            organisation=organisation,
            child=child,
            details=details,
            actor=actor,
            origin=origin,
        )
    return child


def get_guardian(*, session: Session, organisation: Organisation, guardian_id: int) -> User | None:
    """A guardian of this organisation (membership or a link to one of its children), else None."""
    user = session.get(User, guardian_id)
    if user is None:
        return None
    member = session.exec(
        select(Membership.id).where(
            Membership.user_id == user.id,
            Membership.organisation_id == organisation.id,
            Membership.role == Role.GUARDIAN.value,
        )
    ).first()
    linked = session.exec(
        select(Guardianship.id).where(
            Guardianship.guardian_id == user.id,
            col(Guardianship.child_id).in_(org_child_ids(organisation)),
        )
    ).first()
    return user if member is not None or linked is not None else None


def list_guardians(*, session: Session, organisation: Organisation, search: str = "") -> list[User]:
    """The organisation's guardians by name; search matches every word in a name or e-mail."""
    statement = (
        select(User)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(
            Membership.organisation_id == organisation.id,
            Membership.role == Role.GUARDIAN.value,
        )
    )
    for word in search.lower().split()[:5]:
        statement = statement.where(
            or_(
                func.lower(User.full_name).contains(word, autoescape=True),
                col(User.email).contains(word, autoescape=True),
            )
        )
    return list(session.exec(statement.order_by(func.lower(User.full_name), col(User.id))))


def guardians_by_child(
    *, session: Session, child_ids: Sequence[int]
) -> dict[int, list[tuple[User, Guardianship]]]:
    """Each child's guardians with the link (relation), oldest link first."""
    result: dict[int, list[tuple[User, Guardianship]]] = {child_id: [] for child_id in child_ids}
    if not child_ids:
        return result
    rows = session.exec(
        select(User, Guardianship)
        .join(Guardianship, col(Guardianship.guardian_id) == User.id)
        .where(col(Guardianship.child_id).in_(child_ids))
        .order_by(col(Guardianship.created_at), col(Guardianship.id))
    ).all()
    for user, link in rows:
        result[link.child_id].append((user, link))
    return result


def children_by_guardian(
    *, session: Session, organisation: Organisation, guardian_ids: Sequence[int]
) -> dict[int, list[Child]]:
    """Each guardian's children in this organisation (archived ones too), youngest last."""
    result: dict[int, list[Child]] = {guardian_id: [] for guardian_id in guardian_ids}
    if not guardian_ids:
        return result
    rows = session.exec(
        select(Guardianship.guardian_id, Child)
        .join(Child, col(Child.id) == Guardianship.child_id)
        .where(
            col(Guardianship.guardian_id).in_(guardian_ids),
            Child.organisation_id == organisation.id,
        )
        .order_by(col(Child.birth_date), col(Child.id))
    ).all()
    for guardian_id, child in rows:
        result[guardian_id].append(child)
    return result


def contact_is_shared(*, session: Session, organisation: Organisation, user: User) -> bool:
    """Whether the account is also used (or asked for) by another organisation or by staff, or
    its holder has chosen a password: then it is theirs, not this club's to edit.

    Its e-mail address, phone, name and language stay as they are: whoever controls the address
    receives the sign-in and consent links and the other clubs' requests, so one club's staff must
    not be able to redirect, or relabel, an account another club relies on.
    """
    if user.password_hash is not None:
        return True
    if is_asked_elsewhere(session=session, organisation=organisation, user=user):
        return True
    roles = session.exec(
        select(Membership.organisation_id, Membership.role).where(Membership.user_id == user.id)
    ).all()
    return any(org_id != organisation.id or role != Role.GUARDIAN.value for org_id, role in roles)


def update_guardian(
    *,
    session: Session,
    organisation: Organisation,
    guardian: User,
    full_name: str,
    email: str,
    phone: str,
    locale: str | None,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> User:
    """Change a guardian's name, contact details and language; audited."""
    problems = _check_contact(full_name, email, phone, locale)
    if not full_name.strip():
        problems.append(Problem("full_name", N_("Enter the guardian's name.")))
    address = accounts.normalize_email(email)
    new_phone = phone.strip() or None
    details_changed = (
        address != guardian.email
        or new_phone != guardian.phone
        or full_name.strip() != guardian.full_name
        or (locale or None) != guardian.locale
    )
    if (
        address != guardian.email
        and not any(p.field == "email" for p in problems)
        and accounts.get_user_by_email(session=session, email=address) is not None
    ):
        problems.append(Problem("email", N_("Another account already uses this e-mail address.")))
    if details_changed and contact_is_shared(
        session=session, organisation=organisation, user=guardian
    ):
        problems.append(
            Problem(
                "email",
                N_(
                    "This account is also used elsewhere or managed by its holder, so its "
                    "details cannot be changed here."
                ),
            )
        )
    if problems:
        raise PeopleError(problems=problems)
    new = {
        "full_name": full_name.strip(),
        "email": address,
        "phone": new_phone,
        "locale": locale or None,
    }
    changed = [field for field, value in new.items() if getattr(guardian, field) != value]
    for field in changed:
        setattr(guardian, field, new[field])
    session.add(guardian)
    session.flush()
    if changed:
        record_change(
            session=session,
            action="people.guardian_updated",
            organisation=organisation,
            actor=actor,
            origin=origin,
            subject=guardian,
            changed=changed,
        )
    return guardian


def children_of_guardian(
    *, session: Session, organisation: Organisation, guardian: User
) -> list[Child]:
    """The guardian's active children in this organisation, eldest first."""
    return list(
        session.exec(
            select(Child)
            .join(Guardianship, col(Guardianship.child_id) == Child.id)
            .where(
                Guardianship.guardian_id == guardian.id,
                Child.organisation_id == organisation.id,
                col(Child.archived_at).is_(None),
            )
            .order_by(col(Child.birth_date))
        )
    )
