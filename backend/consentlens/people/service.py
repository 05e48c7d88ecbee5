"""Organisations, groups, children and guardians."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, or_, select

from consentlens.audit import service as audit
from consentlens.auth import service as accounts
from consentlens.auth.models import Membership, Role, User
from consentlens.consent.policy import years_after
from consentlens.consent.service import ensure_default_uses
from consentlens.core.i18n import N_
from consentlens.db.base import utcnow
from consentlens.people.models import Child, ChildGroup, Group, Guardianship, Organisation

# A birth date further back than this is a typo (a wrong year), not a member.
MAX_AGE_YEARS = 25
NAME_MAX = 120
EXTERNAL_ID_MAX = 80


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input: the field it is about, and a message id shown to the user."""

    field: str
    message: str


class PeopleError(ValueError):
    """Bad input for a people operation; the message(s) are shown to the user."""

    def __init__(self, message: str = "", *, problems: Sequence[Problem] = ()) -> None:
        self.problems = list(problems) or [Problem("", message)]
        super().__init__(" ".join(p.message for p in self.problems))

    @property
    def messages(self) -> list[str]:
        return [p.message for p in self.problems]

    @property
    def fields(self) -> set[str]:
        return {p.field for p in self.problems if p.field}


def default_season_end(today: date) -> date:
    """Clubs and schools run September to June: the season ends on the coming 30 June."""
    end = date(today.year, 6, 30)
    return end if today <= end else date(today.year + 1, 6, 30)


def local_today(organisation: Organisation, now: datetime | None = None) -> date:
    """The date it is now where the organisation is."""
    return (now or utcnow()).astimezone(ZoneInfo(organisation.timezone)).date()


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:80] or "organisation"


def get_organisation(*, session: Session, name_or_slug: str) -> Organisation | None:
    return session.exec(
        select(Organisation).where(
            (Organisation.slug == name_or_slug) | (Organisation.name == name_or_slug)
        )
    ).first()


def create_organisation(
    *,
    session: Session,
    name: str,
    today: date,
    slug: str | None = None,
    default_locale: str = "nl",
) -> Organisation:
    """A new organisation with the default consent uses."""
    if not name.strip():
        raise PeopleError("An organisation needs a name.")
    slug = slug or slugify(name)
    if session.exec(select(Organisation).where(Organisation.slug == slug)).first() is not None:
        raise PeopleError(f"An organisation with the short name '{slug}' already exists.")
    organisation = Organisation(
        name=name.strip(),
        slug=slug,
        season_end=default_season_end(today),
        default_locale=default_locale,
        privacy_controller=name.strip(),
    )
    session.add(organisation)
    session.flush()
    ensure_default_uses(session=session, organisation=organisation)
    return organisation


def record_change(
    session: Session,
    action: str,
    organisation: Organisation,
    actor: User | None,
    origin: audit.Origin | None,
    subject: Child | Group | User,
    **details: object,
) -> None:
    """Audit one change to a child, group or guardian."""
    audit.record(
        session=session,
        action=action,
        organisation_id=organisation.id,
        actor_id=actor.id if actor else None,
        subject_type={Child: "child", Group: "group", User: "user"}[type(subject)],
        subject_id=subject.id,
        details=details,
        origin=origin,
    )


# --- groups -----------------------------------------------------------------------------------


def check_group_name(
    *, session: Session, organisation: Organisation, name: str, group_id: int | None = None
) -> list[Problem]:
    """What is wrong with a group name: empty, too long, or already taken (archived groups too)."""
    name = name.strip()
    if not name:
        return [Problem("name", N_("Enter a name for the group."))]
    if len(name) > NAME_MAX:
        return [Problem("name", N_("That name is too long."))]
    # Case-insensitive: "U10" and "u10" side by side would only confuse. (SQLite lowers ASCII
    # only, so the exact name is compared too: the unique constraint must never be what stops it.)
    clash = session.exec(
        select(Group.id).where(
            Group.organisation_id == organisation.id,
            or_(Group.name == name, func.lower(Group.name) == name.lower()),
            Group.id != group_id if group_id is not None else True,
        )
    ).first()
    if clash is not None:
        return [Problem("name", N_("A group with this name already exists (perhaps archived)."))]
    return []


def create_group(
    *,
    session: Session,
    organisation: Organisation,
    name: str,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Group:
    assert organisation.id is not None
    problems = check_group_name(session=session, organisation=organisation, name=name)
    if problems:
        raise PeopleError(problems=problems)
    group = Group(organisation_id=organisation.id, name=name.strip())
    session.add(group)
    session.flush()
    record_change(
        session, "people.group_created", organisation, actor, origin, group, name=group.name
    )
    return group


# --- children ---------------------------------------------------------------------------------


def parse_date(text: str) -> date | None:
    """A date typed as 2015-03-31 (what date inputs send) or 31/03/2015; None if unreadable."""
    text = text.strip()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    parts = (match.group(1), match.group(2), match.group(3)) if match else None
    if parts is None:
        match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
        parts = (match.group(3), match.group(2), match.group(1)) if match else None
    if parts is None:
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def check_child(
    *,
    session: Session,
    organisation: Organisation,
    first_name: str,
    last_name: str,
    birth_date: date | None,
    external_id: str | None,
    today: date,
    child_id: int | None = None,
) -> list[Problem]:
    """Everything wrong with a child's details at once (birth_date None: missing or unreadable)."""
    problems = []
    for field, value, message in (
        ("first_name", first_name, N_("Enter the child's first name.")),
        ("last_name", last_name, N_("Enter the child's last name.")),
    ):
        if not value.strip():
            problems.append(Problem(field, message))
        elif len(value.strip()) > NAME_MAX:
            problems.append(Problem(field, N_("That name is too long.")))
    if birth_date is None:
        problems.append(Problem("birth_date", N_("Enter a valid birth date.")))
    elif birth_date > today:
        problems.append(Problem("birth_date", N_("The birth date cannot be in the future.")))
    elif birth_date < years_after(day=today, years=-MAX_AGE_YEARS):
        problems.append(
            Problem("birth_date", N_("The birth date is more than 25 years ago. Check the year."))
        )
    if external_id and len(external_id) > EXTERNAL_ID_MAX:
        problems.append(Problem("external_id", N_("The external id is too long.")))
    elif external_id:
        clash = session.exec(
            select(Child.id).where(
                Child.organisation_id == organisation.id,
                Child.external_id == external_id,
                Child.id != child_id if child_id is not None else True,
            )
        ).first()
        if clash is not None:
            problems.append(
                Problem("external_id", N_("Another child already has this external id."))
            )
    return problems


def _clean_external_id(external_id: str | None) -> str | None:
    return (external_id or "").strip() or None


def create_child(
    *,
    session: Session,
    organisation: Organisation,
    first_name: str,
    last_name: str,
    birth_date: date | None,
    groups: Iterable[Group] = (),
    external_id: str | None = None,
    today: date | None = None,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Child:
    """A new child in some of the organisation's groups; checks everything before writing."""
    assert organisation.id is not None
    external_id = _clean_external_id(external_id)
    groups = list(groups)
    problems = check_child(
        session=session,
        organisation=organisation,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        external_id=external_id,
        today=today or local_today(organisation),
    )
    if any(group.organisation_id != organisation.id for group in groups):
        raise PeopleError("A child can only join groups of its own organisation.")
    if problems:
        raise PeopleError(problems=problems)
    assert birth_date is not None
    child = Child(
        organisation_id=organisation.id,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        birth_date=birth_date,
        external_id=external_id,
    )
    session.add(child)
    session.flush()
    for group in groups:
        assert child.id is not None and group.id is not None
        session.add(ChildGroup(child_id=child.id, group_id=group.id))
    session.flush()
    record_change(
        session,
        "people.child_created",
        organisation,
        actor,
        origin,
        child,
        group_ids=[g.id for g in groups],
    )
    return child


def get_child(*, session: Session, organisation: Organisation, child_id: int) -> Child | None:
    """The organisation's child with that id (archived or not); None for anyone else's."""
    child = session.get(Child, child_id)
    return child if child is not None and child.organisation_id == organisation.id else None


def update_child(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    first_name: str,
    last_name: str,
    birth_date: date | None,
    external_id: str | None = None,
    groups: Sequence[Group] | None = None,
    today: date | None = None,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Child:
    """Change a child's details and (unless groups is None) its active groups; audited."""
    if child.organisation_id != organisation.id:
        raise PeopleError("The child does not belong to this organisation.")
    external_id = _clean_external_id(external_id)
    problems = check_child(
        session=session,
        organisation=organisation,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        external_id=external_id,
        today=today or local_today(organisation),
        child_id=child.id,
    )
    if problems:
        raise PeopleError(problems=problems)
    new = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "birth_date": birth_date,
        "external_id": external_id,
    }
    changed = [field for field, value in new.items() if getattr(child, field) != value]
    for field in changed:
        setattr(child, field, new[field])
    session.add(child)
    if groups is not None and set_child_groups(
        session=session, organisation=organisation, child=child, groups=groups
    ):
        changed.append("groups")
    session.flush()
    if changed:
        record_change(
            session, "people.child_updated", organisation, actor, origin, child, changed=changed
        )
    return child


def set_child_groups(
    *, session: Session, organisation: Organisation, child: Child, groups: Sequence[Group]
) -> bool:
    """Put a child in exactly these active groups (links to archived ones stay); True if changed."""
    if any(g.organisation_id != organisation.id or g.archived_at is not None for g in groups):
        raise PeopleError(problems=[Problem("group_ids", N_("Choose groups from the list."))])
    current = session.exec(
        select(ChildGroup, Group)
        .join(Group, col(Group.id) == ChildGroup.group_id)
        .where(ChildGroup.child_id == child.id, col(Group.archived_at).is_(None))
    ).all()
    wanted = {g.id for g in groups}
    have = {link.group_id for link, _ in current}
    for link, _ in current:
        if link.group_id not in wanted:
            session.delete(link)
    for group_id in wanted - have:
        assert child.id is not None and group_id is not None
        session.add(ChildGroup(child_id=child.id, group_id=group_id))
    session.flush()
    return wanted != have


def set_child_archived(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    archived: bool,
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Child:
    """Archive (hide from lists and pickers, delete nothing) or restore a child; audited."""
    if child.organisation_id != organisation.id:
        raise PeopleError("The child does not belong to this organisation.")
    if (child.archived_at is not None) != archived:
        child.archived_at = utcnow() if archived else None
        session.add(child)
        session.flush()
        action = "people.child_archived" if archived else "people.child_restored"
        record_change(session, action, organisation, actor, origin, child)
        if archived:
            _forget_faces(session, organisation, child, actor)
    return child


def _forget_faces(
    session: Session, organisation: Organisation, child: Child, actor: User | None
) -> None:
    """An archived child is recognised nowhere: references and identifications go, faces are
    covered again, and publications showing them are flagged for takedown."""
    # Imported here: the photo pipeline builds on people, not the other way round.
    from consentlens.photos import enrollment, publishing

    assert child.id is not None
    now = utcnow()
    enrollment.forget_child(
        session=session,
        organisation=organisation,
        child_id=child.id,
        now=now,
        reason="The child was archived.",
        actor_id=actor.id if actor else None,
    )
    publishing.flag_lapsed(
        session=session, organisation=organisation, now=now, child_ids=[child.id]
    )


def is_own_account(*, session: Session, organisation: Organisation, user: User) -> bool:
    """Whether the organisation may link this account without asking its holder: it already has
    a role here, or it is a new account that nobody has claimed (no role anywhere, no password)."""
    organisation_ids = set(
        session.exec(select(Membership.organisation_id).where(Membership.user_id == user.id))
    )
    if organisation.id in organisation_ids:
        return True
    return not organisation_ids and user.password_hash is None


def add_guardian(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    user: User,
    relation: str = "parent",
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Guardianship:
    """Link one of the organisation's own accounts to a child as guardian.

    Someone else's account (see `is_own_account`) is refused: it is linked only once its holder
    confirms (`people/guardian_requests.py`), so one club can never give itself a say over, or
    links and codes for, another club's parent or admin.
    """
    if not is_own_account(session=session, organisation=organisation, user=user):
        raise PeopleError("This account belongs to someone else; its holder must confirm first.")
    return create_guardianship(
        session=session,
        organisation=organisation,
        child=child,
        user=user,
        relation=relation,
        actor=actor,
        origin=origin,
    )


def create_guardianship(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    user: User,
    relation: str = "parent",
    actor: User | None = None,
    origin: audit.Origin | None = None,
) -> Guardianship:
    """Make the link (idempotent); the guardian becomes a member of the organisation.

    Only after the ownership check: `add_guardian`, or the account holder's own confirmation.
    """
    if child.organisation_id != organisation.id:
        raise PeopleError("The child does not belong to this organisation.")
    assert child.id is not None and user.id is not None
    existing = session.exec(
        select(Guardianship).where(
            Guardianship.child_id == child.id, Guardianship.guardian_id == user.id
        )
    ).first()
    if existing is not None:
        return existing
    link = Guardianship(child_id=child.id, guardian_id=user.id, relation=relation)
    session.add(link)
    accounts.add_membership(
        session=session, user=user, organisation=organisation, role=Role.GUARDIAN
    )
    session.flush()
    record_change(
        session,
        "people.guardian_linked",
        organisation,
        actor,
        origin,
        child,
        guardian_id=user.id,
        relation=relation,
    )
    return link


def list_children(
    *,
    session: Session,
    organisation: Organisation,
    search: str = "",
    group_id: int | None = None,
    include_archived: bool = False,
) -> list[Child]:
    """The organisation's children by name; search matches every word in a name or external id."""
    statement = select(Child).where(Child.organisation_id == organisation.id)
    if not include_archived:
        statement = statement.where(col(Child.archived_at).is_(None))
    for word in search.lower().split()[:5]:
        statement = statement.where(
            or_(
                func.lower(Child.first_name).contains(word, autoescape=True),
                func.lower(Child.last_name).contains(word, autoescape=True),
                func.lower(Child.external_id).contains(word, autoescape=True),
            )
        )
    if group_id is not None:
        statement = statement.where(
            col(Child.id).in_(select(ChildGroup.child_id).where(ChildGroup.group_id == group_id))
        )
    return list(
        session.exec(statement.order_by(col(Child.last_name), col(Child.first_name), col(Child.id)))
    )


def children_of_guardian(
    *, session: Session, organisation: Organisation, guardian: User
) -> list[Child]:
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


def organisation_counts(*, session: Session, organisation: Organisation) -> dict[str, int]:
    """How many groups, children, guardians and staff an organisation has."""

    def count(statement: object) -> int:
        return int(session.exec(statement).one())  # type: ignore[call-overload]

    return {
        "groups": count(
            select(func.count())
            .select_from(Group)
            .where(Group.organisation_id == organisation.id, col(Group.archived_at).is_(None))
        ),
        "children": count(
            select(func.count())
            .select_from(Child)
            .where(Child.organisation_id == organisation.id, col(Child.archived_at).is_(None))
        ),
        "guardians": count(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.organisation_id == organisation.id,
                Membership.role == Role.GUARDIAN.value,
            )
        ),
        "staff": count(
            select(func.count(func.distinct(Membership.user_id))).where(
                Membership.organisation_id == organisation.id,
                col(Membership.role).in_([Role.ADMIN.value, Role.STAFF.value]),
            )
        ),
    }
