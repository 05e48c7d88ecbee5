"""What a printed consent form says, as plain data: the service fills it, the PDF draws it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class OrganisationInfo:
    name: str
    page_size: str
    logo_png: bytes | None
    privacy_controller: str
    privacy_contact_email: str
    retention_months: int
    co_consent_age: int
    sole_consent_age: int
    # Where a printed code is typed: {base_url}/code
    code_url: str


@dataclass(frozen=True, slots=True)
class UseLine:
    label: str
    explanation: str


@dataclass(frozen=True, slots=True)
class ChildInfo:
    first_name: str
    full_name: str
    birth_date: date
    groups: tuple[str, ...]
    age: int


@dataclass(frozen=True, slots=True)
class GuardianInfo:
    name: str
    # The personal link printed as a QR code and short code; None when not printed on this form.
    url: str | None = None
    code: str | None = None
    valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class FormContent:
    form_code: str
    locale: str
    season_end: date
    uses: tuple[UseLine, ...]
    # None for a blank form (walk-ins): the child's details are written in by hand.
    child: ChildInfo | None
    guardians: tuple[GuardianInfo, ...] = ()
    # A guardian's own copy: their answer in force per use (in the order of `uses`; None for no
    # answer), whose answers they are and on which day. Empty on every other form.
    answers: tuple[bool | None, ...] = ()
    answered_by: str = ""
    answered_on: date | None = None
