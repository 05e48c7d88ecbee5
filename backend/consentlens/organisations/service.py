"""Organisations: finding one, its local calendar, creating one (the rooms above complete it).

Creating an organisation announces it on `organisation_created`; `consentlens.wiring` subscribes
consent, which gives it the default consent uses in the same transaction. With nobody subscribed
the creation is refused: an organisation must never exist without its default uses.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from consentlens.core.hooks import Hook
from consentlens.core.tables import utcnow
from consentlens.organisations.models import Organisation

organisation_created: Hook[Organisation] = Hook(
    "organisation-created", unless="the new organisation would have no consent uses"
)


class OrganisationError(ValueError):
    """Bad input for creating an organisation; the message is shown to the user."""


def default_season_end(today: date) -> date:
    """Clubs and schools run September to June: the season ends on the coming 30 June."""
    end = date(today.year, 6, 30)
    return end if today <= end else date(today.year + 1, 6, 30)


def local_today(*, organisation: Organisation, now: datetime | None = None) -> date:
    """The date it is now where the organisation is."""
    return (now or utcnow()).astimezone(ZoneInfo(organisation.timezone)).date()


def slugify(name: str) -> str:
    """The short name in URLs and on the command line: lower-case words joined by dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:80] or "organisation"


def get_organisation(*, session: Session, name_or_slug: str) -> Organisation | None:
    """The organisation with this short name or full name, else None."""
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
    """A new organisation, completed by the `organisation_created` listeners (default uses)."""
    # Checked first: a process that skipped the wiring writes nothing.
    organisation_created.require()
    if not name.strip():
        raise OrganisationError("An organisation needs a name.")
    slug = slug or slugify(name)
    if session.exec(select(Organisation).where(Organisation.slug == slug)).first() is not None:
        raise OrganisationError(f"An organisation with the short name '{slug}' already exists.")
    organisation = Organisation(
        name=name.strip(),
        slug=slug,
        season_end=default_season_end(today),
        default_locale=default_locale,
        privacy_controller=name.strip(),
    )
    session.add(organisation)
    session.flush()
    organisation_created.notify(session, organisation)
    return organisation
