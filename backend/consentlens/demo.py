"""The demo club: two teams, eight children, their guardians and a realistic mix of answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from consentlens.auth import service as accounts
from consentlens.auth.models import Role, User
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentUse
from consentlens.consent.uses import Use
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people import groups as group_service
from consentlens.people import guardianships

DEMO_SLUG = "demo"
DEMO_LOGINS = (
    ("admin", "admin@demo.consentlens.test", "demo-admin-2026", "Mila Janssens", Role.ADMIN),
    ("staff", "staff@demo.consentlens.test", "demo-staff-2026", "Tom Claes", Role.STAFF),
    ("guardian", "ann.peeters@demo.consentlens.test", "demo-parent-2026", "Ann Peeters", None),
)


@dataclass(frozen=True)
class DemoChild:
    first: str
    last: str
    age_years: int
    age_days: int
    group: str
    guardians: tuple[tuple[str, str, str], ...]  # (full name, e-mail, locale)


_CHILDREN = (
    DemoChild(
        "Lotte",
        "Peeters",
        9,
        40,
        "U10 Dolfijnen",
        (
            ("Ann Peeters", "ann.peeters@demo.consentlens.test", "nl"),
            ("Bart Peeters", "bart.peeters@demo.consentlens.test", "nl"),
        ),
    ),
    DemoChild(
        "Noah",
        "Peeters",
        13,
        100,
        "U14 Haaien",
        (
            ("Ann Peeters", "ann.peeters@demo.consentlens.test", "nl"),
            ("Bart Peeters", "bart.peeters@demo.consentlens.test", "nl"),
        ),
    ),
    DemoChild(
        "Emma",
        "Dubois",
        10,
        200,
        "U10 Dolfijnen",
        (("Claire Dubois", "claire.dubois@demo.consentlens.test", "fr"),),
    ),
    DemoChild(
        "Lucas",
        "Janssens",
        8,
        300,
        "U10 Dolfijnen",
        (("Sofie Maes", "sofie.maes@demo.consentlens.test", "nl"),),
    ),
    DemoChild(
        "Sara",
        "El Amrani",
        12,
        20,
        "U14 Haaien",
        (("Karim El Amrani", "karim.elamrani@demo.consentlens.test", "fr"),),
    ),
    DemoChild(
        "Milan",
        "Wouters",
        9,
        150,
        "U10 Dolfijnen",
        (("Els Wouters", "els.wouters@demo.consentlens.test", "nl"),),
    ),
    DemoChild(
        "Zoë",
        "Vermeulen",
        16,
        60,
        "U14 Haaien",
        (("Pieter Vermeulen", "pieter.vermeulen@demo.consentlens.test", "nl"),),
    ),
    DemoChild(
        "Łukasz",
        "Kowalski",
        13,
        250,
        "U14 Haaien",
        (("Agnieszka Kowalska", "agnieszka.kowalska@demo.consentlens.test", "en"),),
    ),
)

ALL = tuple(Use)

# (child first name, guardian e-mail or "child", days ago, granted uses, refused uses)
_DECISIONS: tuple[tuple[str, str, int, tuple[Use, ...], tuple[Use, ...]], ...] = (
    ("Lotte", "ann.peeters@demo.consentlens.test", 30, ALL, ()),
    (
        "Lotte",
        "bart.peeters@demo.consentlens.test",
        28,
        (Use.INTERNAL_GALLERY, Use.WEBSITE, Use.FACE_RECOGNITION),
        (Use.SOCIAL_MEDIA,),
    ),
    (
        "Noah",
        "ann.peeters@demo.consentlens.test",
        30,
        (Use.INTERNAL_GALLERY, Use.WEBSITE, Use.PRINT, Use.FACE_RECOGNITION),
        (),
    ),
    (
        "Noah",
        "bart.peeters@demo.consentlens.test",
        28,
        (Use.INTERNAL_GALLERY, Use.WEBSITE, Use.PRINT, Use.FACE_RECOGNITION),
        (),
    ),
    ("Noah", "child", 20, (), (Use.WEBSITE,)),
    (
        "Emma",
        "claire.dubois@demo.consentlens.test",
        25,
        (Use.INTERNAL_GALLERY, Use.WEBSITE, Use.PRINT, Use.SOCIAL_MEDIA, Use.FACE_RECOGNITION),
        (Use.PRESS,),
    ),
    ("Sara", "karim.elamrani@demo.consentlens.test", 22, ALL, ()),
    (
        "Milan",
        "els.wouters@demo.consentlens.test",
        18,
        (Use.INTERNAL_GALLERY, Use.FACE_RECOGNITION),
        (Use.WEBSITE, Use.SOCIAL_MEDIA, Use.PRESS),
    ),
    ("Zoë", "pieter.vermeulen@demo.consentlens.test", 26, ALL, ()),
    ("Zoë", "child", 15, (Use.INTERNAL_GALLERY, Use.WEBSITE, Use.FACE_RECOGNITION), (Use.PRESS,)),
    ("Łukasz", "agnieszka.kowalska@demo.consentlens.test", 24, ALL, ()),
    # A withdrawal: the same guardian later says no to social media.
    ("Łukasz", "agnieszka.kowalska@demo.consentlens.test", 3, (), (Use.SOCIAL_MEDIA,)),
)


def _birth_date(today: date, years: int, days: int) -> date:
    anniversary = (
        today.replace(year=today.year - years)
        if not (today.month == 2 and today.day == 29)
        else date(today.year - years, 2, 28)
    )
    return anniversary - timedelta(days=days)


def _guardian(session: Session, name: str, email: str, locale: str) -> User:
    user = accounts.get_user_by_email(session=session, email=email)
    return user or accounts.create_user(session=session, email=email, full_name=name, locale=locale)


def seed_demo(*, session: Session, now: datetime) -> Organisation:
    """Create the demo club once; running it again changes nothing."""
    existing = session.exec(select(Organisation).where(Organisation.slug == DEMO_SLUG)).first()
    if existing is not None:
        return existing
    today = now.date()
    club = organisations.create_organisation(
        session=session, name="Sportclub De Lenteberg", slug=DEMO_SLUG, today=today
    )
    club.privacy_contact_email = "privacy@demo.consentlens.test"
    for _, email, password, name, role in DEMO_LOGINS:
        user = accounts.get_user_by_email(session=session, email=email) or accounts.create_user(
            session=session, email=email, full_name=name, locale="nl"
        )
        accounts.set_password(session=session, user=user, password=password)
        if role is not None:
            accounts.add_membership(session=session, user=user, organisation=club, role=role)

    groups = {
        name: group_service.create_group(session=session, organisation=club, name=name)
        for name in ("U10 Dolfijnen", "U14 Haaien")
    }
    children = {}
    for spec in _CHILDREN:
        child = child_service.create_child(
            session=session,
            organisation=club,
            first_name=spec.first,
            last_name=spec.last,
            birth_date=_birth_date(today, spec.age_years, spec.age_days),
            groups=[groups[spec.group]],
        )
        for name, email, locale in spec.guardians:
            # The demo seeds its own accounts (one with a password), so no one is asked.
            guardianships.create_guardianship(
                session=session,
                organisation=club,
                child=child,
                user=_guardian(session, name, email, locale),
            )
        children[spec.first] = child

    uses: dict[str, ConsentUse] = {
        use.code: use for use in consent.list_uses(session=session, organisation=club)
    }
    for first, who, days_ago, granted, refused in _DECISIONS:
        guardian = (
            None if who == "child" else accounts.get_user_by_email(session=session, email=who)
        )
        for code, answer in [(c, True) for c in granted] + [(c, False) for c in refused]:
            consent.record_decision(
                session=session,
                organisation=club,
                child=children[first],
                use=uses[code],
                granted=answer,
                method="online",
                now=now,
                decided_at=now - timedelta(days=days_ago),
                guardian=guardian,
                by_child=guardian is None,
                recorded_by=guardian,
            )
    return club
