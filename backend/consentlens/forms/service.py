"""Printed consent forms: gather each form's data, create its links and form id, render, audit."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.auth import links
from consentlens.auth import service as accounts
from consentlens.auth.models import User
from consentlens.consent import flow
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentUse
from consentlens.consent.policy import age_on
from consentlens.core.config import LOCALES, get_settings
from consentlens.core.i18n import N_
from consentlens.forms import content, logo, pdf
from consentlens.forms.models import PrintedForm
from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people.groups import groups_by_child
from consentlens.people.guardians import guardians_by_child
from consentlens.people.models import Child, Group

FORM_CODE_PREFIX = "F"
FORM_CODE_LENGTH = 7  # after the prefix: 31^7 ≈ 2.7e10 codes


class NothingToPrint(ValueError):
    """A group without (active) children."""


@dataclass(frozen=True)
class PrintedForms:
    pdf: bytes
    form_codes: list[str]
    link_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Order:
    """One form to print: for a child (or blank), in a language, with links for some guardians."""

    child: Child | None
    locale: str
    guardians: Sequence[User] = ()
    link_for: Sequence[User] = ()
    # A guardian's own copy: whose answers in force are ticked on it.
    answers_of: User | None = None


def family_locale(*, organisation: Organisation, guardians: Sequence[User]) -> str:
    """The language of the first guardian who chose one, else the organisation's."""
    for guardian in guardians:
        if guardian.locale in LOCALES:
            return guardian.locale
    return organisation.default_locale if organisation.default_locale in LOCALES else "nl"


def _chosen_or_family(
    locale: str | None, organisation: Organisation, guardians: Sequence[User]
) -> str:
    """The language asked for, if it is one of ours, else the family's."""
    if locale in LOCALES:
        return locale
    return family_locale(organisation=organisation, guardians=guardians)


def organisation_info(organisation: Organisation) -> content.OrganisationInfo:
    return content.OrganisationInfo(
        name=organisation.name,
        page_size=organisation.form_page_size,
        logo_png=logo.read(organisation.logo_ref),
        privacy_controller=organisation.privacy_controller,
        privacy_contact_email=organisation.privacy_contact_email,
        retention_months=organisation.retention_months,
        co_consent_age=organisation.co_consent_age,
        sole_consent_age=organisation.sole_consent_age,
        code_url=f"{get_settings().base_url.rstrip('/')}/code",
    )


def _guardians_by_child(session: Session, child_ids: Sequence[int]) -> dict[int, list[User]]:
    """Each child's guardians in the order they were linked (the first is the family's contact)."""
    linked = guardians_by_child(session=session, child_ids=child_ids)
    return {child_id: [user for user, _ in rows] for child_id, rows in linked.items()}


def _new_form_codes(session: Session, count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        fresh = {
            FORM_CODE_PREFIX
            + "".join(secrets.choice(links.CODE_ALPHABET) for _ in range(FORM_CODE_LENGTH))
            for _ in range(count - len(codes))
        }
        taken = set(
            session.exec(select(PrintedForm.form_code).where(col(PrintedForm.form_code).in_(fresh)))
        )
        codes |= fresh - taken
    return sorted(codes)


def _print(
    *,
    session: Session,
    organisation: Organisation,
    orders: Sequence[_Order],
    actor: User,
    now: datetime,
) -> PrintedForms:
    assert organisation.id is not None
    tz = ZoneInfo(organisation.timezone)
    today = now.astimezone(tz).date()
    uses = consent.list_uses(session=session, organisation=organisation)
    use_lines: dict[str, tuple[content.UseLine, ...]] = {}
    child_ids = [order.child.id for order in orders if order.child and order.child.id]
    groups = groups_by_child(session=session, child_ids=child_ids)
    codes = _new_form_codes(session, len(orders))
    forms: list[content.FormContent] = []
    link_ids: list[int] = []
    for order, code in zip(orders, codes, strict=True):
        if order.locale not in use_lines:
            use_lines[order.locale] = _use_lines(uses, order.locale)
        guardians = []
        wanted = {user.id for user in order.link_for}
        for user in order.guardians:
            info = content.GuardianInfo(name=user.full_name)
            # A code never stands in for an account with staff or admin roles: they sign in.
            if (
                user.id in wanted
                and user.is_active
                and not accounts.has_staff_role(session=session, user_id=user.id)
            ):
                link = links.create_link(
                    session=session,
                    organisation=organisation,
                    now=now,
                    guardian=user,
                    created_by=actor,
                    purpose="form",
                )
                assert link.id is not None
                link_ids.append(link.id)
                # The last whole day the link works, as people read it.
                last_day = (link.expires_at - timedelta(microseconds=1)).astimezone(tz).date()
                info = content.GuardianInfo(
                    name=user.full_name,
                    url=links.url_for(link),
                    code=links.format_code(link.short_code),
                    valid_until=last_day,
                )
            guardians.append(info)
        child_info = None
        if order.child is not None:
            child = order.child
            child_info = content.ChildInfo(
                first_name=child.first_name,
                full_name=child.full_name,
                birth_date=child.birth_date,
                groups=tuple(
                    g.name for g in groups.get(child.id or 0, []) if g.archived_at is None
                ),
                age=age_on(birth_date=child.birth_date, day=today),
            )
        session.add(
            PrintedForm(
                form_code=code,
                organisation_id=organisation.id,
                child_id=order.child.id if order.child else None,
                locale=order.locale,
                season_end=organisation.season_end,
                created_by_id=actor.id,
                created_at=now,
            )
        )
        forms.append(
            content.FormContent(
                form_code=code,
                locale=order.locale,
                season_end=organisation.season_end,
                uses=use_lines[order.locale],
                child=child_info,
                guardians=tuple(guardians),
                **_answers(session, organisation, order, uses, now),
            )
        )
    session.flush()
    document = pdf.render_forms(forms=forms, organisation=organisation_info(organisation))
    return PrintedForms(pdf=document, form_codes=codes, link_ids=link_ids)


def _answers(
    session: Session,
    organisation: Organisation,
    order: _Order,
    uses: Sequence[ConsentUse],
    now: datetime,
) -> dict[str, Any]:
    """The guardian's own answers in force this season, for their copy of the form."""
    guardian, child = order.answers_of, order.child
    if guardian is None or child is None or child.id is None:
        return {}
    current = flow.current_answers(
        session=session,
        child_ids=[child.id],
        now=now,
        guardian_id=guardian.id,
        min_valid_until=consent.season_valid_until(organisation),
    )
    return {
        "answers": tuple(current.get((child.id, use.id or 0)) for use in uses),
        "answered_by": guardian.full_name,
        "answered_on": now.astimezone(ZoneInfo(organisation.timezone)).date(),
    }


def _use_lines(uses: Sequence[ConsentUse], locale: str) -> tuple[content.UseLine, ...]:
    return tuple(content.UseLine(use.label(locale), use.explanation(locale)) for use in uses)


def _print_and_audit(
    session: Session,
    organisation: Organisation,
    actor: User,
    now: datetime,
    origin: audit.Origin | None,
    orders: Sequence[_Order],
    subject: tuple[str, object | None],
) -> PrintedForms:
    """Print the orders and audit it under `subject` (type, id); a blank form's id is its code."""
    subject_type, subject_id = subject
    printed = _print(
        session=session, organisation=organisation, orders=orders, actor=actor, now=now
    )
    audit.record(
        session=session,
        action="forms.printed",
        organisation_id=organisation.id,
        actor_id=actor.id,
        subject_type=subject_type,
        subject_id=printed.form_codes[0] if subject_id is None else subject_id,
        # The links are personal sign-in links: who printed which ones must be traceable.
        details={
            "form_codes": printed.form_codes,
            "count": len(printed.form_codes),
            "link_ids": printed.link_ids,
        },
        origin=origin,
    )
    return printed


def child_form(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    actor: User,
    now: datetime,
    locale: str | None = None,
    guardian: User | None = None,
    origin: audit.Origin | None = None,
) -> PrintedForms:
    """A child's form; with `guardian`, only that guardian's personal link is printed on it."""
    assert child.id is not None
    guardians = _guardians_by_child(session, [child.id])[child.id]
    link_for = [g for g in guardians if guardian is None or g.id == guardian.id]
    order = _Order(
        child=child,
        locale=_chosen_or_family(locale, organisation, guardians),
        guardians=guardians,
        link_for=link_for,
        answers_of=guardian,
    )
    subject = ("child", child.id)
    return _print_and_audit(session, organisation, actor, now, origin, [order], subject)


def group_forms(
    *,
    session: Session,
    organisation: Organisation,
    group: Group,
    actor: User,
    now: datetime,
    origin: audit.Origin | None = None,
) -> PrintedForms:
    """One PDF with a form per active child of the group, each in that family's language."""
    children = child_service.list_children(
        session=session, organisation=organisation, group_id=group.id
    )
    if not children:
        raise NothingToPrint(N_("This group has no children yet: there is nothing to print."))
    by_child = _guardians_by_child(session, [c.id for c in children if c.id is not None])
    orders = [
        _Order(
            child=child,
            locale=family_locale(organisation=organisation, guardians=by_child[child.id or 0]),
            guardians=by_child[child.id or 0],
            link_for=by_child[child.id or 0],
        )
        for child in children
    ]
    subject = ("group", group.id)
    return _print_and_audit(session, organisation, actor, now, origin, orders, subject)


def blank_form(
    *,
    session: Session,
    organisation: Organisation,
    actor: User,
    now: datetime,
    locale: str | None = None,
    origin: audit.Origin | None = None,
) -> PrintedForms:
    """A form without a child's details (walk-ins), still with its own form id."""
    order = _Order(child=None, locale=_chosen_or_family(locale, organisation, []))
    subject = ("blank", None)
    return _print_and_audit(session, organisation, actor, now, origin, [order], subject)
