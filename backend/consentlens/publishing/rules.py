"""The organisation's consent rules, changed on a page: the co-consent and sole-consent ages,
whether every guardian must agree, and what each photo use does with a face without consent.

Each of them changes verdicts: an older co-consent age makes a child's own answer count, the
both-guardians rule turns one parent's yes into "waiting", a use set to "hide" stops showing a
photo at all. So a change re-judges every analysed photo of the organisation in the transaction
that saves it (`faces.verdicts.refresh`, which queues the renderings after commit), and flags
publications it makes unlawful, before the next request can see an old verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.consent.models import ConsentUse
from consentlens.core.i18n import N_
from consentlens.faces import verdicts
from consentlens.faces.models import StoredVerdict
from consentlens.organisations.models import Organisation
from consentlens.photos.models import Photo, PhotoStatus
from consentlens.publishing import takedowns

MAX_AGE = 18
ACTIONS = ("blur", "hide")


@dataclass(frozen=True)
class Rules:
    co_consent_age: int
    sole_consent_age: int
    require_all_guardians: bool
    # Per photo use (by code): "blur" or "hide".
    actions: Mapping[str, str]


@dataclass(frozen=True)
class RulesProblem:
    field: str
    message: str  # a msgid


def current_rules(*, organisation: Organisation, uses: Sequence[ConsentUse]) -> Rules:
    return Rules(
        organisation.co_consent_age,
        organisation.sole_consent_age,
        organisation.require_all_guardians,
        {use.code: use.unconsented_action for use in uses if use.applies_to_photos},
    )


def _age(raw: str) -> int | None:
    text = raw.strip()
    # isascii: str.isdigit() also takes '²', which int() refuses.
    if not (text.isascii() and text.isdigit() and len(text) <= 2):
        return None
    age = int(text)
    return age if age <= MAX_AGE else None


def parse_rules(
    *, form: Mapping[str, str], uses: Sequence[ConsentUse]
) -> tuple[Rules | None, list[RulesProblem]]:
    """The rules the form asks for, or what is wrong with them (nothing is saved then)."""
    problems = []
    co = _age(form.get("co_consent_age", ""))
    sole = _age(form.get("sole_consent_age", ""))
    if co is None:
        problems.append(
            RulesProblem(
                "co_consent_age",
                N_("Enter the co-consent age: a whole number of years from 0 to 18."),
            )
        )
    if sole is None:
        problems.append(
            RulesProblem(
                "sole_consent_age",
                N_("Enter the sole-consent age: a whole number of years from 0 to 18."),
            )
        )
    if co is not None and sole is not None and co > sole:
        problems.append(
            RulesProblem(
                "sole_consent_age",
                N_(
                    "The sole-consent age cannot be lower than the co-consent age: a child "
                    "decides alone from the age their refusal counts, or later."
                ),
            )
        )
    actions = {}
    for use in uses:
        if not use.applies_to_photos:
            continue
        action = form.get(f"action_{use.code}", "")
        if action not in ACTIONS:
            problems.append(
                RulesProblem(f"action_{use.code}", N_("Choose blur or hide for every use."))
            )
        actions[use.code] = action
    guardians = form.get("require_all_guardians", "") == "yes"
    if problems or co is None or sole is None:
        return None, problems
    return Rules(co, sole, guardians, actions), []


def _changes(before: Rules, after: Rules) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for name in ("co_consent_age", "sole_consent_age", "require_all_guardians"):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changes[name] = [old, new]
    for code, new in after.actions.items():
        old = before.actions.get(code)
        if old != new:
            changes[f"unconsented_action:{code}"] = [old, new]
    return changes


def analysed_photo_ids(*, session: Session, organisation: Organisation) -> list[int]:
    """The organisation's photos that have verdicts to re-judge (analysed, or judged before)."""
    judged = select(StoredVerdict.photo_id)
    return [
        photo_id
        for photo_id in session.exec(
            select(Photo.id).where(
                Photo.organisation_id == organisation.id,
                col(Photo.status).in_([PhotoStatus.READY.value, PhotoStatus.NEEDS_REVIEW.value])
                | col(Photo.id).in_(judged),
            )
        )
        if photo_id is not None
    ]


def save_rules(
    *,
    session: Session,
    organisation: Organisation,
    uses: Sequence[ConsentUse],
    rules: Rules,
    user: User,
    now: datetime,
    origin: audit.Origin,
) -> int:
    """Store the rules; on a change, audit it and re-judge the photos. Returns photos re-judged."""
    changes = _changes(current_rules(organisation=organisation, uses=uses), rules)
    if not changes:
        return 0
    organisation.co_consent_age = rules.co_consent_age
    organisation.sole_consent_age = rules.sole_consent_age
    organisation.require_all_guardians = rules.require_all_guardians
    session.add(organisation)
    for use in uses:
        if use.code in rules.actions and use.unconsented_action != rules.actions[use.code]:
            use.unconsented_action = rules.actions[use.code]
            session.add(use)
    session.flush()
    photo_ids = analysed_photo_ids(session=session, organisation=organisation)
    verdicts.refresh(session=session, organisation=organisation, photo_ids=photo_ids, now=now)
    # Consent itself may have changed (ages, both guardians): what it makes unlawful comes down.
    takedowns.flag_lapsed(session=session, organisation=organisation, now=now)
    audit.record(
        session=session,
        action="organisation.rules_changed",
        organisation_id=organisation.id,
        actor_id=user.id,
        subject_type="organisation",
        subject_id=organisation.id,
        details={"changes": changes, "photos_rejudged": len(photo_ids)},
        origin=origin,
    )
    return len(photo_ids)
